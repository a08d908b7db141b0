import Foundation

/// A piece of a double-quoted string: literal text, or a `${NAME}` / `${NAME:-default}` to expand.
public enum StringPart: Equatable, Sendable {
    case text(String)
    case env(name: String, fallback: String?)
}

/// One token of the command language, with its position.
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A bare word: a verb, a name, a field path (`trainer.args.lr`) or an unquoted path (`data/train.json`).
        case word(String)
        /// A double- or triple-quoted string (escapes processed, `${...}` kept for expansion).
        case string([StringPart])
        /// A single-quoted string: taken as written (regular expressions, Windows paths).
        case rawString(String)
        case int(Int)
        case double(Double)
        /// A comparison operator, for `check`: `==` `!=` `~=` `<` `<=` `>` `>=`.
        case op(String)
        case equals, comma, openBracket, closeBracket
        /// The end of a statement: a newline outside brackets, or `;`.
        case end
    }
    public var kind: Kind
    public var range: SourceRange
}

/// Splits command text into tokens. Newlines inside `[...]`, after a trailing `\`, and inside
/// `"""..."""` do not end a statement, which is how cells span several lines.
///
/// ```swift
/// let tokens = try Lexer(SourceText(file: "<test>", text: "x = load \"a\" r=8")).tokenize()
/// ```
public struct Lexer {
    let source: SourceText
    let chars: [Character]
    var index = 0
    var line = 1
    var column = 1
    var bracketDepth = 0
    /// The deepest list nesting the language reads: the parser and the evaluator recurse once per level,
    /// and 8,000 levels overflowed the stack (issue 16).
    public static let maxNesting = 256

    public init(_ source: SourceText) {
        self.source = source
        self.chars = Array(source.lines.joined(separator: "\n"))
    }

    /// Characters allowed inside a bare word after its first character.
    static func isWordChar(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || "_./~+:-@%{}$".contains(c)
    }
    static func isWordStart(_ c: Character) -> Bool {
        c.isLetter || "_./~$".contains(c)
    }

    func peek(_ offset: Int = 0) -> Character? {
        index + offset < chars.count ? chars[index + offset] : nil
    }

    mutating func advance() -> Character {
        let c = chars[index]
        index += 1
        if c == "\n" { line += 1; column = 1 } else { column += 1 }
        return c
    }

    func error(_ message: String, _ range: SourceRange, hint: String? = nil) -> LanguageError {
        LanguageError(.syntax, message, source: source, range: range, hint: hint)
    }

    /// True when `text` is an unfinished statement: an open bracket, an open `"""`, or a trailing `\`.
    /// The shell and notebook parser use it to decide whether to read another line.
    public static func needsContinuation(_ text: String) -> Bool {
        var lexer = Lexer(SourceText(file: "", text: text))
        do {
            _ = try lexer.tokenize()
            return lexer.bracketDepth > 0
        } catch let e as LanguageError {
            return e.message.hasPrefix("unterminated triple-quoted") || e.message.hasPrefix("line ends with")
                || e.message.hasPrefix("'[' is never closed")
        } catch { return false }
    }

    public mutating func tokenize() throws -> [Token] {
        var tokens: [Token] = []
        func add(_ kind: Token.Kind, _ l: Int, _ c: Int, _ len: Int) {
            tokens.append(Token(kind: kind, range: SourceRange(line: l, column: c, length: len)))
        }
        while let c = peek() {
            let startLine = line, startColumn = column, startIndex = index
            switch c {
            case " ", "\t", "\r":
                _ = advance()
            case "#":
                while let d = peek(), d != "\n" { _ = advance() }
            case "\\":
                _ = advance()
                var j = index
                while j < chars.count, chars[j] == " " || chars[j] == "\t" || chars[j] == "\r" { j += 1 }
                if j >= chars.count {
                    throw error("line ends with '\\': the statement continues on the next line",
                                SourceRange(line: startLine, column: startColumn, length: 1))
                }
                guard chars[j] == "\n" else {
                    throw error("'\\' continues a line only at its end", SourceRange(line: startLine, column: startColumn, length: 1))
                }
                while index <= j { _ = advance() }
            case "\n", ";":
                _ = advance()
                if bracketDepth == 0 || c == ";" { add(.end, startLine, startColumn, 1) }
            case "=":
                _ = advance()
                if peek() == "=" { _ = advance(); add(.op("=="), startLine, startColumn, 2) } else { add(.equals, startLine, startColumn, 1) }
            case "!", "~", "<", ">":
                _ = advance()
                if peek() == "=" {
                    _ = advance()
                    add(.op(String(c) + "="), startLine, startColumn, 2)
                } else if c == "<" || c == ">" {
                    add(.op(String(c)), startLine, startColumn, 1)
                } else if c == "~" {
                    // A lone `~` starts a home-relative path.
                    index = startIndex; column = startColumn
                    add(.word(try readWord()), startLine, startColumn, index - startIndex)
                } else {
                    throw error("unexpected '!': did you mean '!='?", SourceRange(line: startLine, column: startColumn, length: 1))
                }
            case ",":
                _ = advance(); add(.comma, startLine, startColumn, 1)
            case "[":
                _ = advance(); bracketDepth += 1; add(.openBracket, startLine, startColumn, 1)
                if bracketDepth > Lexer.maxNesting {   // the parser and evaluator recurse once per level
                    throw error("lists are nested more than \(Lexer.maxNesting) deep", SourceRange(line: startLine, column: startColumn, length: 1),
                                hint: "a list of lists rarely needs more than a few levels")
                }
            case "]":
                _ = advance()
                if bracketDepth == 0 { throw error("']' without a matching '['", SourceRange(line: startLine, column: startColumn, length: 1)) }
                bracketDepth -= 1
                add(.closeBracket, startLine, startColumn, 1)
            case "\"":
                let parts = try readString()
                add(.string(parts), startLine, startColumn, index - startIndex)
            case "'":
                _ = advance()
                var text = ""
                while true {
                    guard let d = peek(), d != "\n" else {
                        throw error("unterminated string: add the closing '", SourceRange(line: startLine, column: startColumn, length: index - startIndex))
                    }
                    _ = advance()
                    if d == "'" { break }
                    text.append(d)
                }
                add(.rawString(text), startLine, startColumn, index - startIndex)
            default:
                if c.isNumber || (c == "-" && (peek(1)?.isNumber ?? false)) || (c == "." && (peek(1)?.isNumber ?? false)) {
                    if let number = readNumber() {
                        add(number, startLine, startColumn, index - startIndex)
                        continue
                    }
                    add(.word(try readWord()), startLine, startColumn, index - startIndex)
                } else if Lexer.isWordStart(c) {
                    add(.word(try readWord()), startLine, startColumn, index - startIndex)
                } else {
                    throw error("unexpected character '\(c)'", SourceRange(line: startLine, column: startColumn, length: 1))
                }
            }
        }
        if bracketDepth > 0 {
            throw error("'[' is never closed", tokens.last(where: { $0.kind == .openBracket })?.range ?? SourceRange(line: line, column: column, length: 1))
        }
        add(.end, line, column, 1)
        return tokens
    }

    /// A number, if the text here is one and is not the start of a longer word (`2e-4` yes, `0_train.json` no).
    mutating func readNumber() -> Token.Kind? {
        let start = index, startLine = line, startColumn = column
        var j = index
        if chars[j] == "-" { j += 1 }
        var sawDigit = false, isFloat = false
        while j < chars.count, chars[j].isASCII, chars[j].isNumber || chars[j] == "_" { sawDigit = true; j += 1 }
        if j < chars.count, chars[j] == ".", j + 1 < chars.count, chars[j + 1].isNumber {
            isFloat = true; j += 1
            while j < chars.count, chars[j].isASCII, chars[j].isNumber || chars[j] == "_" { sawDigit = true; j += 1 }
        }
        if sawDigit, j < chars.count, chars[j] == "e" || chars[j] == "E" {
            var k = j + 1
            if k < chars.count, chars[k] == "+" || chars[k] == "-" { k += 1 }
            if k < chars.count, chars[k].isNumber {
                while k < chars.count, chars[k].isNumber { k += 1 }
                isFloat = true; j = k
            }
        }
        guard sawDigit else { return nil }
        if j < chars.count, Lexer.isWordChar(chars[j]) { return nil }
        let text = String(chars[start..<j]).replacingOccurrences(of: "_", with: "")
        while index < j { _ = advance() }
        if !isFloat, let i = Int(text) { return .int(i) }
        if let d = Double(text) { return .double(d) }
        index = start; line = startLine; column = startColumn
        return nil
    }

    mutating func readWord() throws -> String {
        var text = ""
        while let c = peek(), Lexer.isWordChar(c) {
            // `${...}` may hold characters a word cannot (`:-` defaults with spaces are not allowed).
            text.append(advance())
        }
        return text
    }

    /// Reads `"..."` or `"""..."""`. Escapes: `\n \t \r \\ \" \$ \u{...}`. `${NAME}` and `${NAME:-default}` expand.
    mutating func readString() throws -> [StringPart] {
        let startLine = line, startColumn = column
        let triple = peek(1) == "\"" && peek(2) == "\""
        _ = advance()
        if triple {
            _ = advance(); _ = advance()
            if peek() == "\n" { _ = advance() }   // text starts on the line after the opening quotes
        }
        var parts: [StringPart] = []
        var text = ""
        func flush() { if !text.isEmpty { parts.append(.text(text)); text = "" } }
        while true {
            guard let c = peek() else {
                throw error(triple ? "unterminated triple-quoted string: close it with \"\"\"" : "unterminated string: add the closing \"",
                            SourceRange(line: startLine, column: startColumn, length: triple ? 3 : 1))
            }
            if !triple && c == "\n" {
                throw error("unterminated string: add the closing \" (use \"\"\" for text over several lines)",
                            SourceRange(line: startLine, column: startColumn, length: 1))
            }
            if c == "\"" {
                if !triple { _ = advance(); break }
                if peek(1) == "\"" && peek(2) == "\"" {
                    _ = advance(); _ = advance(); _ = advance()
                    break
                }
            }
            if c == "\\" {
                let escLine = line, escColumn = column
                _ = advance()
                guard let e = peek() else { continue }
                _ = advance()
                switch e {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                case "\\": text.append("\\")
                case "\"": text.append("\"")
                case "$": text.append("$")
                case "\n" where triple: break   // a backslash at the end of a line joins it with the next
                case "u":
                    var hex = ""
                    if peek() == "{" {
                        _ = advance()
                        while let h = peek(), h != "}" { hex.append(advance()) }
                        if peek() == "}" { _ = advance() }
                    }
                    guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                        throw error("bad unicode escape: write \\u{1F600}", SourceRange(line: escLine, column: escColumn, length: 2))
                    }
                    text.unicodeScalars.append(scalar)
                default:
                    throw error("unknown escape '\\\(e)' (known: \\n \\t \\r \\\\ \\\" \\$ \\u{...}); for regular expressions use a 'single-quoted' string",
                                SourceRange(line: escLine, column: escColumn, length: 2))
                }
                continue
            }
            if c == "$" && peek(1) == "{" {
                let refLine = line, refColumn = column
                _ = advance(); _ = advance()
                var body = ""
                while let d = peek(), d != "}", d != "\n" { body.append(advance()) }
                guard peek() == "}" else { throw error("'${' is never closed with '}'", SourceRange(line: refLine, column: refColumn, length: 2)) }
                _ = advance()
                flush()
                parts.append(Lexer.envPart(body))
                continue
            }
            text.append(advance())
        }
        flush()
        if triple { parts = Lexer.dedentTriple(parts) }
        return parts
    }

    /// `NAME` or `NAME:-default`.
    static func envPart(_ body: String) -> StringPart {
        if let r = body.range(of: ":-") {
            return .env(name: String(body[..<r.lowerBound]), fallback: String(body[r.upperBound...]))
        }
        return .env(name: body, fallback: nil)
    }

    /// In a triple-quoted string whose closing quotes stand on their own line, that line's
    /// indentation is removed from every line, and the final newline is dropped (as in Swift).
    static func dedentTriple(_ parts: [StringPart]) -> [StringPart] {
        guard case .text(let last)? = parts.last, let nl = last.lastIndex(of: "\n"),
              last[last.index(after: nl)...].allSatisfy({ $0 == " " || $0 == "\t" }) else { return parts }
        let indent = String(last[last.index(after: nl)...])
        var out = parts
        out[out.count - 1] = .text(String(last[..<nl]))
        guard !indent.isEmpty else { return out }
        var atLineStart = true
        return out.map { part in
            guard case .text(let t) = part else { atLineStart = false; return part }
            var result = ""
            var rest = Substring(t)
            while !rest.isEmpty {
                if atLineStart && rest.hasPrefix(indent) { rest = rest.dropFirst(indent.count) }
                atLineStart = false
                if let n = rest.firstIndex(of: "\n") {
                    result += rest[...n]
                    rest = rest[rest.index(after: n)...]
                    atLineStart = true
                } else {
                    result += rest
                    rest = ""
                }
            }
            return .text(result)
        }
    }
}
