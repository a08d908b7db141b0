// Python's `random` module, reproduced bit for bit.
//
// The notebook picks its evaluation rows with `random.seed(42); random.sample(range(n), k=20)`.
// To evaluate the very rows Python evaluates, medrepl reproduces CPython 3.11's generator:
// MT19937 seeded by `init_by_array` with the seed's 32-bit chunks, `getrandbits`, the
// rejection-sampling `_randbelow`, the 53-bit `random()`, `shuffle`, `choice` and both of
// `sample`'s selection strategies (a shrinking pool for small populations, a set of taken
// indices for large ones).
import Foundation

/// An error from ``PythonRandom`` (the cases of Python's, in plain words).
public enum PythonRandomError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// `k` was negative or larger than the population (Python's `ValueError`).
    case sampleLargerThanPopulation(k: Int, population: Int)
    /// `choice` was given an empty sequence (Python's `IndexError`).
    case emptySequence
    /// `getrandbits`/`randbelow` got an argument Python rejects.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .sampleLargerThanPopulation(let k, let n):
            return k < 0 ? "cannot sample a negative number (\(k)) of items" : "cannot sample \(k) items from \(n)"
        case .emptySequence:
            return "cannot choose from an empty list"
        case .invalidArgument(let message):
            return message
        }
    }
    public var errorDescription: String? { description }
}

/// CPython's `random.Random`, reproduced exactly (Mersenne Twister MT19937).
///
/// ```swift
/// var rng = PythonRandom(seed: 42)                       // random.seed(42)
/// let rows = try rng.sample(range: 40244, k: 20)         // random.sample(range(40244), 20)
/// // rows.prefix(5) == [7296, 1639, 18024, 16049, 14628]
/// ```
public struct PythonRandom: Sendable {
    private var mt: [UInt32]  // [624] generator state
    private var index: Int    // next word of `mt` to temper; 624 means "twist first"

    /// `random.seed(seed)` for an integer seed. Python seeds with `abs(seed)`.
    public init(seed: Int) {
        let magnitude = seed.magnitude
        var words: [UInt32] = []
        var rest = UInt64(magnitude)
        repeat {
            words.append(UInt32(truncatingIfNeeded: rest))
            rest >>= 32
        } while rest != 0
        self.init(seedWords: words)
    }

    /// `random.seed(n)` for an integer of any size given as its 32-bit chunks, least significant
    /// first (the key CPython passes to `init_by_array`). Trailing zero chunks are dropped as
    /// Python does; an empty array means the seed 0.
    public init(seedWords: [UInt32]) {
        var key = seedWords
        while key.count > 1 && key.last == 0 { key.removeLast() }
        if key.isEmpty { key = [0] }
        mt = [UInt32](repeating: 0, count: 624)
        index = 624
        initByArray(key)
    }

    /// `random.seed(n)` for a decimal integer literal of any size, e.g. `"-123456789012345678901234567890"`.
    /// Returns nil when the text is not an integer.
    public init?(seedDecimal text: String) {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        // Schoolbook base conversion: words = words * 10 + digit, little-endian 32-bit limbs.
        var words: [UInt32] = [0]
        for ch in digits.utf8 {
            var carry = UInt64(ch - 48)
            for i in words.indices {
                let v = UInt64(words[i]) * 10 + carry
                words[i] = UInt32(truncatingIfNeeded: v)
                carry = v >> 32
            }
            if carry != 0 { words.append(UInt32(carry)) }
        }
        self.init(seedWords: words)
    }

    private mutating func initGenrand(_ s: UInt32) {
        mt[0] = s
        for i in 1..<624 {
            mt[i] = 1812433253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenrand(19650218)
        var i = 1, j = 0
        for _ in 0..<max(624, key.count) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1664525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= 624 { mt[0] = mt[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1566083941)) &- UInt32(i)
            i += 1
            if i >= 624 { mt[0] = mt[623]; i = 1 }
        }
        mt[0] = 0x8000_0000  // MSB is 1, assuring a non-zero initial array
    }

    private mutating func twist() {
        for k in 0..<624 {
            let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % 624] & 0x7fff_ffff)
            mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_b0df : 0)
        }
        index = 0
    }

    /// One tempered 32-bit output (`genrand_uint32`).
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 { twist() }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `random.random()`: a float in [0, 1) with 53 random bits.
    public mutating func random() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)
    }

    /// `random.getrandbits(k)` for any k >= 0, as 32-bit words, least significant first.
    /// The last word holds the top `k % 32` bits when k is not a multiple of 32.
    public mutating func getrandbitsWords(_ k: Int) throws -> [UInt32] {
        guard k >= 0 else { throw PythonRandomError.invalidArgument("number of bits must be non-negative (got \(k))") }
        if k == 0 { return [] }
        if k <= 32 { return [nextUInt32() >> UInt32(32 - k)] }
        var words: [UInt32] = []
        var left = k
        while left > 0 {
            var r = nextUInt32()
            if left < 32 { r >>= UInt32(32 - left) }
            words.append(r)
            left -= 32
        }
        return words
    }

    /// `random.getrandbits(k)` for 0 <= k <= 64.
    public mutating func getrandbits(_ k: Int) throws -> UInt64 {
        guard k <= 64 else { throw PythonRandomError.invalidArgument("getrandbits(\(k)) does not fit in 64 bits; use getrandbitsWords") }
        let words = try getrandbitsWords(k)
        var value: UInt64 = 0
        for (i, w) in words.enumerated() { value |= UInt64(w) << UInt64(32 * i) }
        return value
    }

    /// `random._randbelow(n)`: an int in [0, n), drawing `n.bit_length()` bits and rejecting
    /// values >= n (CPython's `_randbelow_with_getrandbits`). For n = 0, where Python would loop
    /// forever, this returns 0.
    public mutating func randbelow(_ n: Int) throws -> Int {
        guard n >= 0 else { throw PythonRandomError.invalidArgument("randbelow needs n >= 0 (got \(n))") }
        if n == 0 { return 0 }
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = try getrandbits(k)
        while r >= UInt64(n) { r = try getrandbits(k) }
        return Int(r)
    }

    /// `random.randrange(n)` for a single positive bound.
    public mutating func randrange(_ n: Int) throws -> Int {
        guard n > 0 else { throw PythonRandomError.invalidArgument("empty range in randrange(\(n))") }
        return try randbelow(n)
    }

    /// `random.shuffle(x)` in place (Fisher–Yates from the end).
    public mutating func shuffle<T>(_ x: inout [T]) {
        guard x.count > 1 else { return }
        for i in stride(from: x.count - 1, through: 1, by: -1) {
            let j = try! randbelow(i + 1)  // i + 1 > 0, cannot throw
            x.swapAt(i, j)
        }
    }

    /// `random.choice(seq)`.
    public mutating func choice<T>(_ seq: [T]) throws -> T {
        guard !seq.isEmpty else { throw PythonRandomError.emptySequence }
        return seq[try randbelow(seq.count)]
    }

    /// The population size at or below which `sample` copies the population into a pool
    /// (CPython 3.11: `21`, plus `4 ** ceil(log(3k, 4))` when k > 5); above it, `sample`
    /// tracks the taken indices in a set.
    public static func sampleSetSize(k: Int) -> Int {
        var setsize = 21
        if k > 5 {
            // math.log(x, 4) is log(x) / log(4) in doubles; ceil of that, as Python computes it.
            let exponent = Int((Foundation.log(Double(k * 3)) / Foundation.log(4.0)).rounded(.up))
            var power = 1
            for _ in 0..<exponent { power *= 4 }
            setsize += power
        }
        return setsize
    }

    /// `random.sample(population, k)` with both of CPython 3.11's strategies.
    public mutating func sample<T>(_ population: [T], k: Int) throws -> [T] {
        try sampleIndices(population.count, k: k).map { population[$0] }
    }

    /// `random.sample(range(n), k)`: k distinct indices in [0, n), in Python's order.
    public mutating func sample(range n: Int, k: Int) throws -> [Int] {
        try sampleIndices(n, k: k)
    }

    private mutating func sampleIndices(_ n: Int, k: Int) throws -> [Int] {
        guard k >= 0, k <= n else { throw PythonRandomError.sampleLargerThanPopulation(k: k, population: n) }
        var result = [Int](repeating: 0, count: k)
        if n <= Self.sampleSetSize(k: k) {
            // Pool strategy: draw from a shrinking pool, filling each hole with the last element.
            var pool = Array(0..<n)
            for i in 0..<k {
                let j = try randbelow(n - i)
                result[i] = pool[j]
                pool[j] = pool[n - i - 1]
            }
        } else {
            // Set strategy: redraw until an index not yet taken comes up.
            var selected = Set<Int>(minimumCapacity: k)
            for i in 0..<k {
                var j = try randbelow(n)
                while selected.contains(j) { j = try randbelow(n) }
                selected.insert(j)
                result[i] = j
            }
        }
        return result
    }
}
