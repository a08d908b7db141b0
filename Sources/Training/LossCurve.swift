import Foundation

/// Draws a series (the loss per optimizer step) as a text plot with braille dots, 2×4 dots per character.
///
/// ```swift
/// print(LossCurve.render(trainer.state.step_losses, width: 60, height: 10))
/// ```
public enum LossCurve {
    public static func render(_ values: [Double], width: Int = 60, height: Int = 10, title: String = "training loss") -> String {
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
        var lines = ["\(title) (\(values.count) steps)"]
        for r in 0..<height {
            let axis = r == 0 ? label(hi) : r == height - 1 ? label(lo) : String(repeating: " ", count: 7)
            let row = String(String.UnicodeScalarView(cells[r].map { Unicode.Scalar(0x2800 + $0)! }))
            lines.append("\(axis) ┤\(row)")
        }
        lines.append(String(repeating: " ", count: 8) + "└" + String(repeating: "─", count: width))
        lines.append(String(repeating: " ", count: 9) + "1" + String(repeating: " ", count: max(1, width - 1 - String(values.count).count)) + "\(values.count)")
        return lines.joined(separator: "\n")
    }
}
