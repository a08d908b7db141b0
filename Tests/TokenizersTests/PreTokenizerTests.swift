import Testing
import Tokenizers

/// Expected pieces come from the Python `tokenizers` library (0.23.3): `Split(Regex(pattern), "isolated")`,
/// and `Sequence([Digits(individual_digits=True), Split(...)])` for SmolLM.
@Suite struct PreTokenizerTests {
    static let texts = ["I've 12345 apples", "HE'S here 'RE x", "  two\n\n  \tspaces \r\n end  ", "(normal) x2=3.5%",
                        "a\u{00A0}b \u{3000}c", "tab\tword  12  "]

    @Test func llama3Pattern() {
        let expected: [[String]] = [
            ["I", "'ve", " ", "123", "45", " apples"],
            ["HE", "'S", " here", " '", "RE", " x"],
            [" ", " two", "\n\n", "  ", "\tspaces", " \r\n", " end", "  "],
            ["(normal", ")", " x", "2", "=", "3", ".", "5", "%"],
            ["a", "\u{00A0}b", " ", "\u{3000}c"],
            ["tab", "\tword", " ", " ", "12", "  "],
        ]
        for (text, pieces) in zip(Self.texts, expected) { #expect(PreTokenizer.llama3.split(text) == pieces) }
    }

    @Test func gpt2Pattern() {
        let expected: [[String]] = [
            ["I", "'ve", " 12345", " apples"],
            ["HE", "'", "S", " here", " '", "RE", " x"],
            [" ", " two", "\n\n  ", "\t", "spaces", " \r\n", " end", "  "],
            ["(", "normal", ")", " x", "2", "=", "3", ".", "5", "%"],
            ["a", "\u{00A0}", "b", " ", "\u{3000}", "c"],
            ["tab", "\t", "word", " ", " 12", "  "],
        ]
        for (text, pieces) in zip(Self.texts, expected) { #expect(PreTokenizer.gpt2.split(text) == pieces) }
    }

    @Test func smollmDigitsThenGPT2() {
        let expected: [[String]] = [
            ["I", "'ve", " ", "1", "2", "3", "4", "5", " apples"],
            ["HE", "'", "S", " here", " '", "RE", " x"],
            [" ", " two", "\n\n  ", "\t", "spaces", " \r\n", " end", "  "],
            ["(", "normal", ")", " x", "2", "=", "3", ".", "5", "%"],
            ["a", "\u{00A0}", "b", " ", "\u{3000}", "c"],
            ["tab", "\t", "word", "  ", "1", "2", "  "],
        ]
        for (text, pieces) in zip(Self.texts, expected) { #expect(PreTokenizer.smollm.split(text) == pieces) }
    }

    @Test func piecesAlwaysCoverTheText() {
        let tricky = ["", " ", "\n", "'", "''s", "x'", "1234567", "🦙🦙 ok", "\r\n\r\n", "a\u{0301}b", "   \n   \n"]
        for text in tricky {
            for pre in [PreTokenizer.llama3, .gpt2, .smollm] { #expect(pre.split(text).joined() == text) }
        }
    }

    @Test func byteLevelMapping() {
        #expect(ByteLevel.character(for: 0x20) == "Ġ")
        #expect(ByteLevel.character(for: 0x0A) == "Ċ")
        #expect(ByteLevel.character(for: UInt8(ascii: "a")) == "a")
        #expect(ByteLevel.encode([0x20, 0x68, 0x69]) == "Ġhi")
        #expect(ByteLevel.bytes(of: "Ġhi") == [0x20, 0x68, 0x69])
        #expect(ByteLevel.bytes(of: "▁") == nil)
        #expect(Set((0...255).map { ByteLevel.character(for: UInt8($0)) }).count == 256)
        for b in 0...255 { #expect(ByteLevel.byte(for: ByteLevel.character(for: UInt8(b))) == UInt8(b)) }
    }
}
