import Foundation
import FuzzTargets
import TestSupport
import Testing

/// The fuzz targets' seeds and every committed finding, replayed through the targets (no sanitizers here:
/// tools/fuzz/run.sh fuzzes with them). A finding that crashes again takes the test process down, which
/// fails the suite.
@Suite struct FuzzReplayTests {
    static let regressions = Repository.url("tools/fuzz/regressions")

    static func findings(_ target: FuzzTarget) -> [URL] {
        let dir = regressions.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    /// Every target has a seed that goes all the way through (a seed rejected at once would leave libFuzzer
    /// to find the format from nothing), and no seed crashes.
    @Test(arguments: FuzzTarget.allCases)
    func seedsReachTheEnd(_ target: FuzzTarget) throws {
        let seeds = try target.seeds()
        #expect(!seeds.isEmpty)
        let errors = seeds.map { target.run($0.bytes) }
        #expect(errors.contains { $0 == nil }, "no seed of \(target) is read without an error: \(errors)")
    }

    /// Each committed finding is an input that once crashed medrepl; now it is refused with an error.
    @Test(arguments: FuzzTarget.allCases)
    func findingsAreRefusedWithAnError(_ target: FuzzTarget) throws {
        for url in Self.findings(target) {
            let error = target.run([UInt8](try Data(contentsOf: url)))
            #expect(error != nil, "\(url.lastPathComponent) is accepted")
        }
    }

    /// The six crashes of issue 16 are among the findings, so the replay covers them.
    @Test func issueSixteenReproducersAreCommitted() {
        #expect(Self.findings(.config).filter { $0.lastPathComponent.hasPrefix("issue16-") }.count == 7)
        #expect(Self.findings(.tokenizer_json).contains { $0.lastPathComponent.contains("missing-byte") })
        #expect(Self.findings(.language).contains { $0.lastPathComponent.contains("nested") })
    }

    /// libFuzzer reads the dictionaries: one quoted entry per line, quotes and backslashes escaped.
    @Test(arguments: FuzzTarget.allCases)
    func dictionariesAreWellFormed(_ target: FuzzTarget) {
        let lines = target.dictionaryFile.split(separator: "\n")
        #expect(lines.count == target.dictionary.count)
        for line in lines {
            #expect(line.first == "\"" && line.last == "\"")
            #expect(line.allSatisfy { $0.isASCII && !($0.asciiValue! < 0x20) })
        }
    }
}
