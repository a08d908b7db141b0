import Foundation
import Language
import Notebook
import TestSupport
import Testing

/// docs/extending.md's examples are the API as it is: each `swift` block is in ExtendingExamples.swift, which
/// the test target compiles, and here they run as a contributor would use them.
@Suite struct ExtendingGuideTests {
    static let guide = Repository.url("docs/extending.md")
    static let examples = Repository.url("Tests/NotebookTests/ExtendingExamples.swift")

    /// The guide's `swift` blocks, without their import lines (the compiled file gathers those at its top).
    static func blocks() throws -> [String] {
        let text = try String(contentsOf: guide, encoding: .utf8)
        var blocks: [String] = [], current: [String]? = nil
        for line in text.components(separatedBy: "\n") {
            if current == nil, line == "```swift" { current = []; continue }
            if current != nil, line == "```" { blocks.append(current!.joined(separator: "\n")); current = nil; continue }
            if !line.hasPrefix("import ") { current?.append(line) }
        }
        return blocks.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    @Test func everyBlockOfTheGuideIsCompiled() throws {
        let compiled = try String(contentsOf: Self.examples, encoding: .utf8)
        let blocks = try Self.blocks()
        #expect(blocks.count >= 3)
        for block in blocks {
            #expect(compiled.contains(block), "docs/extending.md has a swift block that ExtendingExamples.swift lacks:\n\(block)")
        }
    }

    @Test func theExamplesWork() throws {
        let registry = Registry.standard()
        registry.add(.configs)
        registry.register(drawVerb)
        let box = NotebookFixtures.OutputBox()
        let session = Session(registry: registry, output: OutputSink(stream: { box.text += $0 }), environment: [:],
                              directory: Repository.root)
        try session.run("cfg = read_config Tests/Fixtures/tiny-llama\nh = cfg.hidden_size\nd = draw_settings answers=3", file: "<test>")
        #expect(box.text.hasPrefix("read config.json: 2 layers"), "\(box.text)")
        #expect(session.value(named: "h") == .int(64))
        guard case .object(let d)? = session.value(named: "d") else { Issue.record("no DrawSettings"); return }
        #expect(d.field("answers") == .int(3) && d.field("temperature") == .double(0.7) && d.field("keep_empty") == .bool(false))
        #expect(throws: (any Error).self) { try session.run("d = draw_settings answers=0", file: "<test>") }
        do { try session.run("d = draw_settings answers=0", file: "<test>") } catch {
            #expect("\(error)".contains("answers must be a positive integer, got 0"), "\(error)")
        }
        #expect(registry.verb(named: "read_config")?.usage == "read_config PATH")
    }
}
