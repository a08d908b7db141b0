/// Turns generated ids into text as they arrive, never splitting a multi-byte UTF-8 character.
///
/// A byte-level or byte-fallback token can end in the middle of a character (an emoji is often
/// three or four tokens); those bytes wait until the character is complete. The pieces join to what
/// `decode` returns, except that `clean_up_tokenization_spaces` is not applied to a stream.
/// ```swift
/// var stream = tokenizer.makeStreamingDecoder()
/// for id in [243, 162, 169, 156] { print(stream.push(id), terminator: "") }   // prints "🦙" once, at the last id
/// ```
public struct StreamingDecoder {
    private let tokenizer: any Tokenizer
    private let skipSpecialTokens: Bool
    private let specialTokenIds: Set<Int>
    /// Bytes received but not yet returned: at most the start of one incomplete character.
    private var pending: [UInt8] = []
    /// Whether a token other than a skipped special one has come; SentencePiece drops its dummy-prefix space before that.
    private var started = false

    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        self.specialTokenIds = tokenizer.specialTokenIds
    }

    /// Adds one id; returns the text completed by it (often empty for partial characters).
    public mutating func push(_ id: Int) -> String {
        tokenizer.appendBytes(of: id, to: &pending, atStart: !started, skipSpecialTokens: skipSpecialTokens)
        if !(skipSpecialTokens && specialTokenIds.contains(id)) { started = true }
        let complete = pending.count - incompleteTailLength(pending)
        if complete == 0 { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns whatever is still held (an unfinished character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        started = false
        return text
    }
}

/// The number of trailing bytes that begin a UTF-8 character whose remaining bytes have not arrived.
func incompleteTailLength(_ bytes: [UInt8]) -> Int {
    var back = 0
    var i = bytes.count - 1
    // Walk back over at most three continuation bytes to the lead byte.
    while i >= 0 && back < 4 {
        let b = bytes[i]
        back += 1
        if b & 0xC0 != 0x80 {
            let need: Int
            if b < 0x80 { need = 1 } else if b & 0xE0 == 0xC0 { need = 2 } else if b & 0xF0 == 0xE0 { need = 3 }
            else if b & 0xF8 == 0xF0 { need = 4 } else { need = 1 }   // an invalid lead byte: let it through
            return need > back ? back : 0
        }
        i -= 1
    }
    return 0   // only continuation bytes: invalid, let them through as U+FFFD
}
