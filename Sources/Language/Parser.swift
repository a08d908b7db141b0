/// An expression as written: resolved to a `Value` only when the statement runs, because a bare
/// word means a live name, a field path, or plain text depending on the parameter it fills.
public struct Expr: Sendable {
    public enum Kind: Sendable {
        case int(Int)
        case double(Double)
        /// Double-quoted text, with `${...}` still to expand.
        case string([StringPart])
        case rawString(String)
        /// `true`, `false`, `none`, a name, a field path, a verb name or an unquoted path.
        case word(String)
        /// A comparison operator, only meaningful as an argument of `check` / `assert`.
        case op(String)
        case list([Expr])
    }
    public var kind: Kind
    public var range: SourceRange
}

/// `name=value` or a positional value.
public struct Argument: Sendable {
    public var name: String?
    public var nameRange: SourceRange?
    public var value: Expr
}

/// One statement: `[let] [target =] verb arg...` or `[let] [target =] expression`.
public struct Statement: Sendable {
    /// The name the result is stored under, if the statement assigns.
    public var target: String?
    public var targetRange: SourceRange?
    /// The verb called, or nil when the statement is a bare expression (`x = 3`, `trainer.args`).
    public var verb: String?
    public var verbRange: SourceRange?
    public var arguments: [Argument]
    /// The expression, when `verb` is nil.
    public var expression: Expr?
    /// The source text the statement was parsed from, for error carets.
    public var source: SourceText
    /// The first and last line of the statement within `source`.
    public var lines: ClosedRange<Int>
    /// Where its first token starts, and where the `;`, newline or end of text that ends it is.
    public var start = SourceRange(line: 1, column: 1, length: 1)
    public var end = SourceRange(line: 1, column: 1, length: 1)

    /// The statement as written: from its first token to the separator after it (comments included).
    public var text: String {
        guard start.line >= 1, end.line <= source.lines.count, start.line <= end.line else { return "" }
        var parts: [String] = []
        for line in start.line...end.line {
            let chars = Array(source.lines[line - 1])
            let from = line == start.line ? min(start.column - 1, chars.count) : 0
            let to = line == end.line ? min(max(end.column - 1, from), chars.count) : chars.count
            parts.append(String(chars[from..<to]))
        }
        var text = parts.joined(separator: "\n")
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }
}

/// Parses tokens into statements. It needs the verb names to tell `vars` (a call) from `x` (a name).
///
/// ```swift
/// let statements = try Parser.parse(SourceText(file: "<cell>", text: "r = 8\nshow r"), verbs: registry.verbNames)
/// ```
public enum Parser {
    public static func parse(_ source: SourceText, verbs: Set<String>) throws -> [Statement] {
        var lexer = Lexer(source)
        let tokens = try lexer.tokenize()
        var statements: [Statement] = []
        var i = 0
        func error(_ message: String, _ token: Token, hint: String? = nil) -> LanguageError {
            LanguageError(.syntax, message, source: source, range: token.range, hint: hint)
        }
        func parseExpr() throws -> Expr {
            let t = tokens[i]
            switch t.kind {
            case .int(let v): i += 1; return Expr(kind: .int(v), range: t.range)
            case .double(let v): i += 1; return Expr(kind: .double(v), range: t.range)
            case .string(let p): i += 1; return Expr(kind: .string(p), range: t.range)
            case .rawString(let s): i += 1; return Expr(kind: .rawString(s), range: t.range)
            case .word(let w): i += 1; return Expr(kind: .word(w), range: t.range)
            case .op(let o): i += 1; return Expr(kind: .op(o), range: t.range)
            case .openBracket:
                i += 1
                var items: [Expr] = []
                while true {
                    if tokens[i].kind == .closeBracket { i += 1; break }
                    items.append(try parseExpr())
                    if tokens[i].kind == .comma { i += 1; continue }
                    if tokens[i].kind == .closeBracket { i += 1; break }
                    throw error("expected ',' or ']' in a list", tokens[i])
                }
                let end = tokens[i - 1].range
                let length = end.line == t.range.line ? end.column - t.range.column + 1 : 1
                return Expr(kind: .list(items), range: SourceRange(line: t.range.line, column: t.range.column, length: length))
            case .equals: throw error("unexpected '='", t, hint: "write options as key=value after a verb")
            case .comma: throw error("unexpected ','", t, hint: "arguments are separated by spaces; commas separate list items")
            case .closeBracket: throw error("unexpected ']'", t)
            case .end: throw error("expected a value", t)
            }
        }

        while i < tokens.count {
            if tokens[i].kind == .end { i += 1; continue }
            let first = tokens[i]
            var statement = Statement(target: nil, targetRange: nil, verb: nil, verbRange: nil, arguments: [],
                                      expression: nil, source: source, lines: first.range.line...first.range.line)
            if case .word("let") = first.kind, case .word = tokens[i + 1].kind, tokens[i + 2].kind == .equals {
                i += 1
            }
            if case .word(let name) = tokens[i].kind, tokens[i + 1].kind == .equals {
                guard Parser.isName(name) else {
                    throw error("'\(name)' cannot be assigned to: names are letters, digits and _", tokens[i])
                }
                statement.target = name
                statement.targetRange = tokens[i].range
                i += 2
                if tokens[i].kind == .end { throw error("expected a value or a verb after '='", tokens[i]) }
            }
            if case .word(let w) = tokens[i].kind, verbs.contains(w) {
                statement.verb = w
                statement.verbRange = tokens[i].range
                i += 1
                while tokens[i].kind != .end {
                    if case .word(let key) = tokens[i].kind, tokens[i + 1].kind == .equals {
                        let keyToken = tokens[i]
                        i += 2
                        if tokens[i].kind == .end { throw error("'\(key)=' needs a value", keyToken) }
                        statement.arguments.append(Argument(name: key, nameRange: keyToken.range, value: try parseExpr()))
                    } else {
                        statement.arguments.append(Argument(name: nil, nameRange: nil, value: try parseExpr()))
                    }
                }
            } else {
                let expr = try parseExpr()
                statement.expression = expr
                if tokens[i].kind != .end {
                    // `foo x y` where foo is not a verb: the likely mistake is a misspelt verb.
                    if case .word(let w) = expr.kind, Parser.isName(w) {
                        throw LanguageError(.unknownVerb, "unknown verb '\(w)'", source: source, range: expr.range,
                                            hint: Suggest.hint(for: w, in: Array(verbs)) ?? "type 'help' for the list of verbs")
                    }
                    throw error("expected the end of the statement", tokens[i],
                                hint: "a statement is 'verb arguments...', 'name = verb arguments...' or 'name = value'")
                }
            }
            statement.lines = first.range.line...max(first.range.line, tokens[i].range.line)
            statement.start = first.range
            statement.end = tokens[i].range
            statements.append(statement)
        }
        return statements
    }

    /// True for a valid variable name: a letter or `_`, then letters, digits and `_`.
    public static func isName(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }
}
