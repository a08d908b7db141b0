import Foundation
import Testing
import Weights

/// Paths and helpers shared by the Weights tests.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// `expected.json`, written by tools/fixtures/weights_fixture.py.
    static let expected: [String: Any] = {
        let data = try! Data(contentsOf: url("expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// The expected entry `section.name` as (shape, values).
    static func expectedTensor(_ section: String, _ name: String) -> (shape: [Int], values: [Float]) {
        let entry = (expected[section] as! [String: Any])[name] as! [String: Any]
        let shape = (entry["shape"] as! [Any]).map { ($0 as! NSNumber).intValue }
        let values = (entry["values"] as! [Any]).map { Float(($0 as! NSNumber).doubleValue) }
        return (shape, values)
    }
}

/// A fresh temporary folder, removed when the value is released.
final class TempDir {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("weights-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

/// Runs `body`, expects a `WeightsError`, and checks that its text names `file` and contains every `parts`.
func expectWeightsError(file: String, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error naming \(file) and \(parts)", sourceLocation: sourceLocation)
    } catch let error as WeightsError {
        let text = error.description
        #expect(text.contains(file), "error \"\(text)\" does not name the file \(file)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(text.contains(part), "error \"\(text)\" does not mention \"\(part)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a WeightsError, got \(error)", sourceLocation: sourceLocation)
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
