// A small JSON reader that knows where it is.
//
// Foundation's JSONSerialization reports a broken file without a line and column and gives up on
// the whole file when one string holds invalid UTF-8. Dataset files are edited by hand and cut by
// scripts, so medrepl reads them with this reader instead: a syntax error names line:column, and a
// string with invalid UTF-8 becomes `.invalidString` so that only its row is skipped. The readers of
// model files (config.json, tokenizer.json, ...) keep JSONSerialization's values and ask this reader
// where a file that does not parse goes wrong (see `JSONFile`).
import Foundation

/// A parsed JSON value. Object members keep their file order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)              // the literal as written, e.g. "3.5e2"
    case string(String)
    case invalidString(bytes: Int)   // a string whose bytes are not valid UTF-8 (its byte count)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    /// The kind of value, as a message would name it ("string", "number", ...).
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .invalidString: return "string with invalid UTF-8"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.invalidString(let x), .invalidString(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// A JSON syntax error at a 1-based line and column (columns count bytes).
public struct JSONSyntaxError: Error, CustomStringConvertible, Equatable {
    /// 1-based line.
    public let line: Int
    /// 1-based column, in bytes.
    public let column: Int
    /// What was wrong there.
    public let message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// Reads JSON text from UTF-8 bytes, tracking positions for messages.
///
/// ```swift
/// let value = try JSONReader.parse(Array("[{\"a\": \"b\"}]".utf8))
/// // value == .array([.object([("a", .string("b"))])])
/// ```
public struct JSONReader {
    private let bytes: [UInt8]
    private var pos: Int
    private var depth = 0
    /// Also refuses what Foundation's JSONSerialization refuses and this reader would otherwise keep:
    /// a string that is not valid UTF-8, a lone surrogate escape, a number beyond Double's range.
    private var strict = false

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is allowed before the value.
        pos = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// Parses one complete JSON text; anything but whitespace after the value is an error.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var reader = JSONReader(bytes)
        let value = try reader.value()
        reader.skipWhitespace()
        if reader.pos < bytes.count { throw reader.error("unexpected \(reader.describeHere()) after the JSON value") }
        return value
    }

    /// The first place where `bytes` is not JSON that Foundation's JSONSerialization reads, or nil when
    /// there is none: `JSONFile` asks this when JSONSerialization refuses a file, to say where and why.
    ///
    /// ```swift
    /// JSONReader.firstProblem(in: Array("{\n  \"a\": 1,,\n}".utf8))?.description   // "2:10: expected a string key ..."
    /// ```
    public static func firstProblem(in bytes: [UInt8]) -> JSONSyntaxError? {
        var reader = JSONReader(bytes)
        reader.strict = true
        do throws(JSONSyntaxError) {
            _ = try reader.value()
        } catch {
            return error
        }
        reader.skipWhitespace()
        return reader.pos < bytes.count ? reader.error("unexpected \(reader.describeHere()) after the JSON value") : nil
    }

    /// Parses a top-level JSON array, returning each element with the 1-based line it starts on.
    public static func parseArrayWithLines(_ bytes: [UInt8]) throws(JSONSyntaxError) -> [(value: JSONValue, line: Int)] {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "[") else {
            throw reader.error("expected a JSON array '[' at the top level, found \(reader.describeHere())")
        }
        reader.pos += 1
        var elements: [(JSONValue, Int)] = []
        var lineCounter = LineCounter()
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "]") {
            reader.pos += 1
        } else {
            while true {
                reader.skipWhitespace()
                let line = lineCounter.line(at: reader.pos, in: bytes)
                elements.append((try reader.value(), line))
                reader.skipWhitespace()
                guard let c = reader.peek() else { throw reader.error("unexpected end of file inside the top-level array (missing ']')") }
                if c == UInt8(ascii: ",") { reader.pos += 1; continue }
                if c == UInt8(ascii: "]") { reader.pos += 1; break }
                throw reader.error("expected ',' or ']' after array element, found \(reader.describeHere())")
            }
        }
        reader.skipWhitespace()
        if reader.pos < bytes.count { throw reader.error("unexpected \(reader.describeHere()) after the top-level array") }
        return elements
    }

    /// Counts newlines incrementally so numbering every row of a large file stays linear.
    private struct LineCounter {
        var offset = 0, line = 1
        mutating func line(at target: Int, in bytes: [UInt8]) -> Int {
            while offset < target { if bytes[offset] == 0x0A { line += 1 }; offset += 1 }
            return line
        }
    }

    // MARK: - Grammar

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard let c = peek() else { throw error("unexpected end of file, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected \(describeHere()), expected a value")
        }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        pos += 1  // {
        var members: [(String, JSONValue)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; depth -= 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key in object, found \(describeHere())") }
            let keyStart = pos
            guard case .string(let key) = try string() else {
                pos = keyStart
                throw error("object key is not valid UTF-8")
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\", found \(describeHere())") }
            pos += 1
            members.append((key, try value()))
            skipWhitespace()
            guard let c = peek() else { throw error("unexpected end of file inside an object (missing '}')") }
            if c == UInt8(ascii: ",") { pos += 1; continue }
            if c == UInt8(ascii: "}") { pos += 1; break }
            throw error("expected ',' or '}' after object member \"\(key)\", found \(describeHere())")
        }
        depth -= 1
        return .object(members)
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        pos += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; depth -= 1; return .array(elements) }
        while true {
            elements.append(try value())
            skipWhitespace()
            guard let c = peek() else { throw error("unexpected end of file inside an array (missing ']')") }
            if c == UInt8(ascii: ",") { pos += 1; continue }
            if c == UInt8(ascii: "]") { pos += 1; break }
            throw error("expected ',' or ']' after array element, found \(describeHere())")
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        // Deep nesting would exhaust the stack; no dataset row is nested this deep.
        if depth > 512 { throw error("nesting deeper than 512 levels") }
    }

    private mutating func string() throws(JSONSyntaxError) -> JSONValue {
        let start = pos
        pos += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else {
                pos = start
                throw error("unterminated string (no closing '\"')")
            }
            // Copy the run of plain bytes up to the next quote, backslash or control byte at once.
            let runStart = pos
            while pos < bytes.count, bytes[pos] != 0x22, bytes[pos] != 0x5C, bytes[pos] >= 0x20 { pos += 1 }
            if pos > runStart { out.append(contentsOf: bytes[runStart..<pos]) }
            guard pos < bytes.count else { continue }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw error("control character 0x\(String(c, radix: 16)) inside a string (write it as an escape such as \\n)") }
            pos += 1
            guard pos < bytes.count else { throw error("unterminated escape at end of file") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                        pos += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            if strict { throw error("a high surrogate escape not followed by a low one") }
                            appendUTF8(0xFFFD, to: &out); scalar = low
                        }
                    } else {
                        if strict { throw error("a lone surrogate escape (\\uD800-\\uDBFF without its low half)") }
                        scalar = 0xFFFD  // a lone surrogate, as Python's json would keep it, has no UTF-8 form
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    if strict { throw error("a lone low surrogate escape (\\uDC00-\\uDFFF)") }
                    scalar = 0xFFFD
                }
                appendUTF8(scalar, to: &out)
            default:
                pos -= 1
                throw error("invalid escape '\\\(describeByte(e))' in string")
            }
        }
        if let text = String(validating: out, as: UTF8.self) { return .string(text) }
        if strict {
            pos = start
            throw error("a string that is not valid UTF-8 text")
        }
        return .invalidString(bytes: out.count)
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count, let d = hexDigit(bytes[pos]) else { throw error("expected 4 hex digits after \\u") }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - 48)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - 87)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - 55)
        default: return nil
        }
    }

    private func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
        out.append(contentsOf: Array(String(Character(s)).utf8))
    }

    private mutating func number() throws(JSONSyntaxError) -> JSONValue {
        let start = pos
        func digits(_ r: inout JSONReader) -> Int {
            var n = 0
            while let c = r.peek(), c >= 48, c <= 57 { r.pos += 1; n += 1 }
            return n
        }
        if peek() == UInt8(ascii: "-") { pos += 1 }
        if peek() == UInt8(ascii: "0") { pos += 1 } else if digits(&self) == 0 { throw error("invalid number") }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            if digits(&self) == 0 { throw error("expected digits after '.' in number") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            if digits(&self) == 0 { throw error("expected digits in number exponent") }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if strict, let value = Double(text), !value.isFinite {
            pos = start
            throw error("the number \(text) is beyond the range of a 64-bit float")
        }
        return .number(text)
    }

    private mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else {
            throw error("unexpected \(describeHere()), expected a value")
        }
        pos += w.count
    }

    // MARK: - Positions and messages

    private func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private func describeByte(_ c: UInt8) -> String {
        (0x21..<0x7F).contains(c) ? String(UnicodeScalar(c)) : String(format: "0x%02x", c)
    }

    private func describeHere() -> String {
        guard let c = peek() else { return "end of file" }
        return (0x21..<0x7F).contains(c) ? "'\(describeByte(c))'" : "byte \(describeByte(c))"
    }

    private func error(_ message: String) -> JSONSyntaxError {
        var line = 1, lineStart = 0
        for i in 0..<min(pos, bytes.count) where bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
        return JSONSyntaxError(line: line, column: pos - lineStart + 1, message: message)
    }
}
