import Foundation

/// Draws a series (the loss per optimizer step) as a text plot with braille dots, 2×4 dots per character.
///
/// ```swift
/// print(LossCurve.render(trainer.state.step_losses, width: 60, height: 10))
/// ```
public enum LossCurve {
    /// `values` one per step (the axis reads 1 … count), or per evaluation with `steps` the first and last steps
    /// they were computed at (`unit` "evaluations").
    public static func render(_ values: [Double], width: Int = 60, height: Int = 10, title: String = "training loss",
                              unit: String = "steps", steps: (first: Int, last: Int)? = nil) -> String {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), width > 0, height > 0 else { return "\(title): no data" }
        let span = hi > lo ? hi - lo : 1
        let dotsX = width * 2, dotsY = height * 4
        var cells = [[UInt32]](repeating: [UInt32](repeating: 0, count: width), count: height)
        // Braille dot bits by (column, row) within a cell.
        let bits: [[UInt32]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
        func plot(_ x: Int, _ y: Int) {
            let row = dotsY - 1 - y
            cells[row / 4][x / 2] |= bits[x % 2][row % 4]
        }
        var previous: Int?
        for x in 0..<dotsX {
            // the value at this column: the mean of the steps that fall into it
            let a = x * values.count / dotsX, b = max(a + 1, (x + 1) * values.count / dotsX)
            let slice = values[a..<min(b, values.count)].filter(\.isFinite)
            guard !slice.isEmpty else { continue }
            let v = slice.reduce(0, +) / Double(slice.count)
            let y = min(dotsY - 1, max(0, Int(((v - lo) / span * Double(dotsY - 1)).rounded())))
            if let p = previous {   // join to the previous column so the line is continuous
                for yy in min(p, y)...max(p, y) { plot(x, yy) }
            } else {
                plot(x, y)
            }
            previous = y
        }
        let label = { (v: Double) in String(format: "%7.4f", v) }
        var lines = ["\(title) (\(values.count) \(unit))"]
        for r in 0..<height {
            let axis = r == 0 ? label(hi) : r == height - 1 ? label(lo) : String(repeating: " ", count: 7)
            let row = String(String.UnicodeScalarView(cells[r].map { Unicode.Scalar(0x2800 + $0)! }))
            lines.append("\(axis) ┤\(row)")
        }
        lines.append(String(repeating: " ", count: 8) + "└" + String(repeating: "─", count: width))
        let (first, last) = steps.map { ("\($0.first)", "\($0.last)") } ?? ("1", "\(values.count)")
        lines.append(String(repeating: " ", count: 9) + first + String(repeating: " ", count: max(1, width - first.count - last.count)) + last
                     + (steps == nil ? "" : " (step)"))
        return lines.joined(separator: "\n")
    }
}

extension LossCurve {
    /// A line chart as a standalone SVG document: the training loss (one point per logged step), the validation
    /// loss (one point per evaluation) on the left axis, and the learning rate on the right axis, against the step.
    ///
    /// ```swift
    /// let svg = LossCurve.svg(training: [(10, 2.9), (20, 2.4)], validation: [(10, 3.0), (20, 2.8)],
    ///                         learningRate: [(1, 2e-5), (20, 1e-4)], title: "outputs/medical-lora")
    /// try AtomicFile.write(svg, to: "loss_curve.svg")
    /// ```
    public static func svg(training: [(step: Int, value: Double)], validation: [(step: Int, value: Double)],
                           learningRate: [(step: Int, value: Double)], title: String) -> String {
        let width = 720.0, height = 400.0, left = 70.0, right = 80.0, top = 50.0, bottom = 50.0
        let plotW = width - left - right, plotH = height - top - bottom
        let losses = (training + validation).map(\.value).filter(\.isFinite)
        var lo = losses.min() ?? 0, hi = losses.max() ?? 1
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        lo -= pad; hi += pad
        let lastStep = max(1, (training + validation + learningRate).map(\.step).max() ?? 1)
        let lrMax = max(learningRate.map(\.value).max() ?? 0, 1e-12)
        func x(_ step: Int) -> Double { left + Double(step) / Double(lastStep) * plotW }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotH }
        func yLR(_ v: Double) -> Double { top + (1 - v / lrMax) * plotH }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        func points(_ series: [(step: Int, value: Double)], _ map: (Double) -> Double) -> String {
            series.filter { $0.value.isFinite }.map { "\(f(x($0.step))),\(f(map($0.value)))" }.joined(separator: " ")
        }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out: [String] = [
            ##"<?xml version="1.0" encoding="UTF-8"?>"##,
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif" font-size="12">"##,
            ##"<rect width="100%" height="100%" fill="white"/>"##,
            ##"<text x="\##(f(width / 2))" y="22" text-anchor="middle" font-size="14">\##(escape(title))</text>"##,
        ]
        // axes, horizontal grid with loss labels on the left and learning-rate labels on the right
        for i in 0...4 {
            let fraction = Double(i) / 4, gy = top + fraction * plotH
            out.append(##"<line x1="\##(f(left))" y1="\##(f(gy))" x2="\##(f(left + plotW))" y2="\##(f(gy))" stroke="#e0e0e0"/>"##)
            out.append(##"<text x="\##(f(left - 6))" y="\##(f(gy + 4))" text-anchor="end">\##(String(format: "%.3f", hi - fraction * (hi - lo)))</text>"##)
            if !learningRate.isEmpty {
                out.append(##"<text x="\##(f(left + plotW + 6))" y="\##(f(gy + 4))" fill="#777">\##(String(format: "%.1e", lrMax * (1 - fraction)))</text>"##)
            }
        }
        out.append(##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotW))" height="\##(f(plotH))" fill="none" stroke="#333"/>"##)
        // step ticks at a round interval (1, 2 or 5 × a power of ten), at most six of them
        var interval = 1
        while lastStep / interval > 5 {
            let digits = String(interval).count - 1, lead = interval / Int(pow(10, Double(digits)))
            interval = (lead == 1 ? 2 : lead == 2 ? 5 : 10) * Int(pow(10, Double(digits)))
        }
        for step in stride(from: 0, through: lastStep, by: interval) {
            out.append(##"<text x="\##(f(x(step)))" y="\##(f(top + plotH + 18))" text-anchor="middle">\##(step)</text>"##)
        }
        out.append(##"<text x="\##(f(left + plotW / 2))" y="\##(f(height - 10))" text-anchor="middle">step</text>"##)
        out.append(##"<text transform="translate(16 \##(f(top + plotH / 2))) rotate(-90)" text-anchor="middle">loss</text>"##)
        if !learningRate.isEmpty {
            out.append(##"<text transform="translate(\##(f(width - 12)) \##(f(top + plotH / 2))) rotate(90)" text-anchor="middle" fill="#777">learning rate</text>"##)
            out.append(##"<polyline class="learning-rate" fill="none" stroke="#999" stroke-dasharray="4 3" points="\##(points(learningRate, yLR))"/>"##)
        }
        out.append(##"<polyline class="training-loss" fill="none" stroke="#1f77b4" stroke-width="2" points="\##(points(training, y))"/>"##)
        if !validation.isEmpty {
            out.append(##"<polyline class="validation-loss" fill="none" stroke="#ff7f0e" stroke-width="2" points="\##(points(validation, y))"/>"##)
            for p in validation where p.value.isFinite {
                out.append(##"<circle cx="\##(f(x(p.step)))" cy="\##(f(y(p.value)))" r="3" fill="#ff7f0e"/>"##)
            }
        }
        // legend
        var legend: [(String, String, String)] = [("training loss", "#1f77b4", "")]
        if !validation.isEmpty { legend.append(("validation loss", "#ff7f0e", "")) }
        if !learningRate.isEmpty { legend.append(("learning rate", "#999", ##" stroke-dasharray="4 3""##)) }
        for (i, item) in legend.enumerated() {
            let lx = left + 10 + Double(i) * 140
            out.append(##"<line x1="\##(f(lx))" y1="\##(f(top - 12))" x2="\##(f(lx + 24))" y2="\##(f(top - 12))" stroke="\##(item.1)" stroke-width="2"\##(item.2)/>"##)
            out.append(##"<text x="\##(f(lx + 30))" y="\##(f(top - 8))">\##(item.0)</text>"##)
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
