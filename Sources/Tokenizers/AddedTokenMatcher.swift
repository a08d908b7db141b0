/// A piece of input text after added tokens have been taken out: either plain text to run through
/// the model's algorithm (a byte range of the UTF-8 input) or an added token's id.
enum TextFragment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Finds added/special tokens (`<|im_end|>`, `</s>`) in raw text before the model's algorithm runs,
/// the way the `tokenizers` library does: scanning left to right, at each position the longest token wins.
struct AddedTokenMatcher {
    /// Candidates by first byte, longest first: `[firstByte] -> [(utf8, id)]`.
    private var byFirstByte: [[([UInt8], Int)]] = Array(repeating: [], count: 256)
    /// `[256]`: whether some token starts with this byte (a cheap test before the candidate list).
    private var startsToken = [Bool](repeating: false, count: 256)
    private(set) var isEmpty = true

    init(tokens: [(String, Int)]) {
        for (text, id) in tokens where !text.isEmpty {
            let utf8 = Array(text.utf8)
            byFirstByte[Int(utf8[0])].append((utf8, id))
            startsToken[Int(utf8[0])] = true
            isEmpty = false
        }
        for b in 0..<256 where byFirstByte[b].count > 1 {
            byFirstByte[b].sort { $0.0.count > $1.0.count }
        }
    }

    /// Splits `bytes` into text ranges and token ids; empty text ranges are left out.
    func split(_ bytes: [UInt8]) -> [TextFragment] {
        if isEmpty { return bytes.isEmpty ? [] : [.text(0..<bytes.count)] }
        var fragments: [TextFragment] = []
        var textStart = 0
        var i = 0
        let n = bytes.count
        bytes.withUnsafeBufferPointer { p in
            while i < n {
                if !startsToken[Int(p[i])] { i += 1; continue }
                var matched: ([UInt8], Int)? = nil
                for candidate in byFirstByte[Int(p[i])] where candidate.0.count <= n - i {
                    var equal = true
                    for k in 1..<candidate.0.count where p[i + k] != candidate.0[k] { equal = false; break }
                    if equal { matched = candidate; break }
                }
                if let (utf8, id) = matched {
                    if textStart < i { fragments.append(.text(textStart..<i)) }
                    fragments.append(.token(id))
                    i += utf8.count
                    textStart = i
                } else {
                    i += 1
                }
            }
        }
        if textStart < n { fragments.append(.text(textStart..<n)) }
        return fragments
    }
}
