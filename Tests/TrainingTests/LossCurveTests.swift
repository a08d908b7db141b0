import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Training

// The SVG chart of a run (issue 19): well-formed XML, one point per logged step, per evaluation and per step of
// the learning rate, inside the plot.

@Suite struct LossCurveTests {
    /// Each polyline's class and points, read by an XML parser (which fails on a malformed document).
    final class Polylines: NSObject, XMLParserDelegate {
        var lines: [String: [(Double, Double)]] = [:]
        var circles = 0
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == "circle" { circles += 1 }
            guard name == "polyline", let cls = attributes["class"], let points = attributes["points"] else { return }
            lines[cls] = points.split(separator: " ").map { pair in
                let xy = pair.split(separator: ",").map { Double($0)! }
                return (xy[0], xy[1])
            }
        }
    }

    @Test func theChartIsAnSVGWithOnePointPerLoggedStep() throws {
        let training = [(10, 2.9), (20, 2.4), (30, 2.2), (40, 2.25)]
        let validation = [(20, 2.6), (40, 2.5)]
        let rates = (1...40).map { ($0, 2e-4 * Double(min($0, 10)) / 10) }
        let svg = LossCurve.svg(training: training, validation: validation, learningRate: rates, title: "run <1> & co")
        let parser = XMLParser(data: Data(svg.utf8))
        let read = Polylines()
        parser.delegate = read
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        #expect(read.lines["training-loss"]?.count == 4 && read.lines["validation-loss"]?.count == 2)
        #expect(read.lines["learning-rate"]?.count == 40 && read.circles == 2)
        // x grows with the step; a lower loss is drawn lower (SVG y grows downwards); every point inside the 720 × 400 canvas
        let t = try #require(read.lines["training-loss"])
        #expect(zip(t, t.dropFirst()).allSatisfy { $0.0 < $1.0 })
        #expect(t[1].1 > t[0].1 && t[3].1 < t[2].1)
        #expect(read.lines.values.joined().allSatisfy { (0...720).contains($0.0) && (0...400).contains($0.1) })
    }
}
