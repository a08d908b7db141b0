/// How byte-level BPE cuts text into words before merging, written as hand-made scanners over
/// Unicode scalars that match the regular expressions of the `tokenizers` library exactly.
///
/// ```swift
/// PreTokenizer.llama3.split("I've 12345 apples")   // ["I", "'ve", " ", "123", "45", " apples"]
/// PreTokenizer.smollm.split("I've 12345 apples")   // ["I", "'ve", " ", "1", "2", "3", "4", "5", " apples"]
/// ```
public struct PreTokenizer: Equatable, Sendable {
    /// One stage; each refines the pieces of the one before, like a `Sequence` pre-tokenizer.
    public enum Step: Equatable, Sendable {
        /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2Split
        /// Llama-3 / GPT-4: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
        /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        case llama3Split
        /// `Digits`: each `\p{N}` its own piece (`individual`), or runs of them.
        case digits(individual: Bool)
    }

    public var steps: [Step]
    /// ByteLevel's `add_prefix_space`: a space goes in front of text that does not start with one.
    public var addPrefixSpace: Bool

    public init(steps: [Step], addPrefixSpace: Bool = false) {
        self.steps = steps
        self.addPrefixSpace = addPrefixSpace
    }

    public static let gpt2 = PreTokenizer(steps: [.gpt2Split])
    public static let llama3 = PreTokenizer(steps: [.llama3Split])
    /// SmolLM / SmolLM2: digits one by one, then GPT-2's pattern (`Digits(individual_digits)` + `ByteLevel`).
    public static let smollm = PreTokenizer(steps: [.digits(individual: true), .gpt2Split])

    /// The pre-tokenizer for a GGUF `tokenizer.ggml.pre` name as transformers reads the GGUF file (the
    /// reference medrepl is checked against), or nil when medrepl does not know the name.
    ///
    /// `"smollm"` gives `.gpt2`: transformers builds a plain GPT-2 ByteLevel pre-tokenizer from the GGUF,
    /// while SmolLM2's own `tokenizer.json` (and llama.cpp) split digits first (`.smollm`). The two differ
    /// only where two or more spaces precede a digit ("`  10`": `Ġ Ġ 1 0` against `ĠĠ 1 0`); set
    /// `GGUFVocabulary.preTokenizer = .smollm` to get the `tokenizer.json` behaviour from a GGUF file.
    public static func named(_ name: String) -> PreTokenizer? {
        switch name {
        case "llama3", "llama-v3", "llama-bpe", "default": return .llama3
        case "smollm", "gpt-2", "gpt2": return .gpt2
        default: return nil
        }
    }

    /// Splits text into pieces (for inspection and tests; the tokenizer uses `ranges`).
    public func split(_ text: String) -> [String] {
        var scalars = Array(text.unicodeScalars)
        if addPrefixSpace, scalars.first != " " { scalars.insert(" ", at: 0) }
        let classes = scalars.map(ScalarClass.of)
        return ranges(scalars: scalars, classes: classes).map { r in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[r])
            return String(view)
        }
    }

    /// The pieces of `scalars` as index ranges, in order, covering every scalar.
    func ranges(scalars: [Unicode.Scalar], classes: [UInt8]) -> [Range<Int>] {
        var pieces: [Range<Int>] = scalars.isEmpty ? [] : [0..<scalars.count]
        for step in steps {
            var refined: [Range<Int>] = []
            refined.reserveCapacity(pieces.count * 4)
            for piece in pieces {
                var i = piece.lowerBound
                let end = piece.upperBound
                while i < end {
                    let next: Int
                    switch step {
                    case .gpt2Split: next = gpt2Match(scalars, classes, i, end)
                    case .llama3Split: next = llama3Match(scalars, classes, i, end)
                    case .digits(let individual): next = digitsMatch(classes, i, end, individual)
                    }
                    refined.append(i..<next)
                    i = next
                }
            }
            pieces = refined
        }
        return pieces
    }
}

/// Character classes as the patterns see them, as bit flags.
enum ScalarClass {
    static let letter: UInt8 = 1      // \p{L}
    static let number: UInt8 = 2      // \p{N}
    static let space: UInt8 = 4       // \s (Unicode White_Space)
    static let newline: UInt8 = 8     // \r or \n

    static let ascii: [UInt8] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    @inline(__always)
    static func of(_ s: Unicode.Scalar) -> UInt8 {
        s.value < 128 ? ascii[Int(s.value)] : classify(s)
    }

    static func classify(_ s: Unicode.Scalar) -> UInt8 {
        if s == "\r" || s == "\n" { return space | newline }
        let p = s.properties
        if p.isWhitespace { return space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return letter
        case .decimalNumber, .letterNumber, .otherNumber: return number
        default: return 0
        }
    }
}

@inline(__always) private func isLetter(_ c: UInt8) -> Bool { c & ScalarClass.letter != 0 }
@inline(__always) private func isNumber(_ c: UInt8) -> Bool { c & ScalarClass.number != 0 }
@inline(__always) private func isSpace(_ c: UInt8) -> Bool { c & ScalarClass.space != 0 }
/// `[^\s\p{L}\p{N}]`
@inline(__always) private func isOther(_ c: UInt8) -> Bool { c == 0 }

@inline(__always) private func lowerASCII(_ s: Unicode.Scalar) -> UInt32 {
    (s.value >= 65 && s.value <= 90) ? s.value + 32 : s.value
}

/// Length of a contraction (`'s 't 're 've 'm 'll 'd`) starting at `i`, or 0.
@inline(__always)
private func contractionLength(_ s: [Unicode.Scalar], _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
    guard s[i] == "'", i + 1 < end else { return 0 }
    let a = caseInsensitive ? lowerASCII(s[i + 1]) : s[i + 1].value
    switch a {
    case 0x73, 0x74, 0x6D, 0x64: return 2   // s t m d
    default: break
    }
    guard i + 2 < end else { return 0 }
    let b = caseInsensitive ? lowerASCII(s[i + 2]) : s[i + 2].value
    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return 3 }   // re ve ll
    return 0
}

/// End of the whitespace run starting at `i`.
@inline(__always)
private func spaceRunEnd(_ c: [UInt8], _ i: Int, _ end: Int) -> Int {
    var j = i
    while j < end && isSpace(c[j]) { j += 1 }
    return j
}

/// `\s+(?!\S)|\s+` at a whitespace scalar: the run, less its last scalar when a non-space follows.
@inline(__always)
private func trailingSpaceMatch(_ c: [UInt8], _ i: Int, _ end: Int) -> Int {
    let e = spaceRunEnd(c, i, end)
    if e == end || e - i < 2 { return e }
    return e - 1
}

/// End of the GPT-2 pattern's match at `i` (< end).
func gpt2Match(_ s: [Unicode.Scalar], _ c: [UInt8], _ i: Int, _ end: Int) -> Int {
    let k = contractionLength(s, i, end, caseInsensitive: false)
    if k > 0 { return i + k }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the optional space only helps when a run follows it.
    let j = (s[i] == " " && i + 1 < end) ? i + 1 : i
    // A letter, number or other run; the class of its first scalar decides which.
    let runClass = c[j] & (ScalarClass.letter | ScalarClass.number | ScalarClass.space)
    if runClass != ScalarClass.space {
        var e = j + 1
        while e < end && c[e] & (ScalarClass.letter | ScalarClass.number | ScalarClass.space) == runClass { e += 1 }
        return e
    }
    if isSpace(c[i]) { return trailingSpaceMatch(c, i, end) }
    return i + 1
}

/// End of the Llama-3 pattern's match at `i` (< end).
func llama3Match(_ s: [Unicode.Scalar], _ c: [UInt8], _ i: Int, _ end: Int) -> Int {
    let k = contractionLength(s, i, end, caseInsensitive: true)
    if k > 0 { return i + k }
    // `[^\r\n\p{L}\p{N}]?\p{L}+`
    var j = i
    if !isLetter(c[i]) && !isNumber(c[i]) && c[i] & ScalarClass.newline == 0 { j = i + 1 }
    if j < end && isLetter(c[j]) {
        var e = j + 1
        while e < end && isLetter(c[e]) { e += 1 }
        return e
    }
    // `\p{N}{1,3}`
    if isNumber(c[i]) {
        var e = i + 1
        while e < end && e < i + 3 && isNumber(c[e]) { e += 1 }
        return e
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    j = (s[i] == " " && i + 1 < end) ? i + 1 : i
    if isOther(c[j]) {
        var e = j + 1
        while e < end && isOther(c[e]) { e += 1 }
        while e < end && c[e] & ScalarClass.newline != 0 { e += 1 }
        return e
    }
    if isSpace(c[i]) {
        // `\s*[\r\n]+`: up to the last newline of the whitespace run.
        let e = spaceRunEnd(c, i, end)
        var last = e - 1
        while last >= i && c[last] & ScalarClass.newline == 0 { last -= 1 }
        if last >= i { return last + 1 }
        return trailingSpaceMatch(c, i, end)
    }
    return i + 1
}

/// End of a `Digits` piece at `i`: one digit (individual), a digit run, or a run of non-digits.
func digitsMatch(_ c: [UInt8], _ i: Int, _ end: Int, _ individual: Bool) -> Int {
    var e = i + 1
    if isNumber(c[i]) {
        if individual { return e }
        while e < end && isNumber(c[e]) { e += 1 }
    } else {
        while e < end && !isNumber(c[e]) { e += 1 }
    }
    return e
}
