import Datasets
import Evaluation
import Foundation
import TestSupport
import Testing

/// Checks PythonRandom against outputs of CPython 3.11 recorded by
/// tools/fixtures/make_python_random_fixture.py.
@Suite struct PythonRandomTests {
    struct Fixture: Decodable {
        struct Sample: Decodable { let n: Int; let k: Int; let seed: String; let strategy: String; let result: [Int] }
        struct Shuffle: Decodable { let n: Int; let seed: String; let result: [Int] }
        struct Floats: Decodable { let seed: String; let result: [String] }
        struct Bits: Decodable { let seed: String; let k: [Int]; let result: [String] }
        struct Choice: Decodable { let seed: String; let population: [String]; let result: [String] }
        let sample: [Sample]
        let shuffle: [Shuffle]
        let random: [Floats]
        let getrandbits: [Bits]
        let choice: [Choice]
        let setsize: [String: Int]
    }

    static let fixture: Fixture = {
        let url = Repository.url("Tests/EvaluationTests/Fixtures/python_random.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func rng(_ seed: String) -> PythonRandom { PythonRandom(seedDecimal: seed)! }

    @Test func notebookIndices() throws {
        var r = PythonRandom(seed: 42)
        let picked = try r.sample(range: 40244, k: 20)
        #expect(Array(picked.prefix(5)) == [7296, 1639, 18024, 16049, 14628])
    }

    @Test func sampleMatchesPythonForBothStrategies() throws {
        var strategies = Set<String>()
        for c in Self.fixture.sample {
            var r = rng(c.seed)
            #expect(try r.sample(range: c.n, k: c.k) == c.result, "n=\(c.n) k=\(c.k) seed=\(c.seed)")
            #expect((c.n <= PythonRandom.sampleSetSize(k: c.k) ? "pool" : "set") == c.strategy)
            strategies.insert(c.strategy)
        }
        #expect(strategies == ["pool", "set"])
    }

    @Test func sampleOfArrayUsesSameIndices() throws {
        let c = Self.fixture.sample[0]
        var r = rng(c.seed)
        let population = (0..<c.n).map { "row\($0)" }
        #expect(try r.sample(population, k: c.k) == c.result.map { "row\($0)" })
    }

    @Test func setSizeRule() {
        for (k, size) in Self.fixture.setsize {
            #expect(PythonRandom.sampleSetSize(k: Int(k)!) == size, "k=\(k)")
        }
    }

    @Test func shuffleMatchesPython() {
        for c in Self.fixture.shuffle {
            var r = rng(c.seed)
            var x = Array(0..<c.n)
            r.shuffle(&x)
            #expect(x == c.result, "n=\(c.n) seed=\(c.seed)")
        }
    }

    @Test func randomMatchesPythonBitForBit() {
        for c in Self.fixture.random {
            var r = rng(c.seed)
            for expected in c.result {
                #expect(r.random() == Double(expected)!, "seed=\(c.seed)")
            }
        }
    }

    @Test func getrandbitsMatchesPython() throws {
        for c in Self.fixture.getrandbits {
            var r = rng(c.seed)
            for (k, expected) in zip(c.k, c.result) {
                // Compare as decimal text so that values above 64 bits are checked too.
                let words = try r.getrandbitsWords(k)
                #expect(Self.decimal(words) == expected, "seed=\(c.seed) k=\(k)")
            }
        }
    }

    @Test func choiceMatchesPython() throws {
        for c in Self.fixture.choice {
            var r = rng(c.seed)
            for expected in c.result { #expect(try r.choice(c.population) == expected) }
        }
    }

    @Test func seedsOfAnySize() {
        // seed(-42) == seed(42); seed(0) and seed(2**64 + 1) are valid; junk is rejected.
        var a = PythonRandom(seed: -42), b = PythonRandom(seed: 42)
        #expect(a.nextUInt32() == b.nextUInt32())
        var c = PythonRandom(seedDecimal: "0")!, d = PythonRandom(seed: 0)
        #expect(c.nextUInt32() == d.nextUInt32())
        var e = PythonRandom(seedWords: [1, 0, 1]), f = PythonRandom(seedDecimal: "18446744073709551617")!
        #expect(e.nextUInt32() == f.nextUInt32())
        #expect(PythonRandom(seedDecimal: "12a") == nil)
    }

    @Test func sampleTooLargeHasPythonsMessage() {
        var r = PythonRandom(seed: 42)
        #expect(throws: PythonRandomError.sampleLargerThanPopulation(k: 20, population: 10)) { try r.sample(range: 10, k: 20) }
        #expect(throws: PythonRandomError.sampleLargerThanPopulation(k: -1, population: 10)) { try r.sample(range: 10, k: -1) }
        #expect("\(PythonRandomError.sampleLargerThanPopulation(k: 20, population: 10))" == "cannot sample 20 items from 10")
        #expect(throws: PythonRandomError.emptySequence) { try r.choice([Int]()) }
    }

    /// Little-endian 32-bit words to a decimal string.
    static func decimal(_ words: [UInt32]) -> String {
        var limbs = words
        while limbs.count > 1 && limbs.last == 0 { limbs.removeLast() }
        if limbs.isEmpty || limbs == [0] { return "0" }
        var digits: [Character] = []
        while !(limbs.count == 1 && limbs[0] == 0) {
            var remainder: UInt64 = 0
            for i in stride(from: limbs.count - 1, through: 0, by: -1) {
                let v = remainder << 32 | UInt64(limbs[i])
                limbs[i] = UInt32(v / 10)
                remainder = v % 10
            }
            digits.append(Character(String(remainder)))
            while limbs.count > 1 && limbs.last == 0 { limbs.removeLast() }
        }
        return String(digits.reversed())
    }
}
