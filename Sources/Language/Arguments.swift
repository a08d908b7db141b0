import Foundation

/// Matching a statement's arguments to a verb's parameters, and turning expressions into values
/// of the types parameters ask for.
extension Session {
    /// Matches a statement's arguments to a verb's parameters and checks their types.
    public func bind(_ statement: Statement, to verb: Verb) throws -> Invocation {
        var values: [String: Value] = [:]
        var given = Set<String>()
        var ranges: [String: SourceRange] = [:]
        var rest: [Value] = []
        var position = 0
        let source = statement.source
        for argument in statement.arguments {
            if let key = argument.name {
                guard let parameter = verb.keywords.first(where: { $0.name == key })
                        ?? verb.positional.first(where: { $0.name == key }) else {
                    let names = (verb.keywords + verb.positional).map(\.name)
                    throw LanguageError(.unknownOption, "'\(verb.name)' has no option '\(key)'", source: source,
                                        range: argument.nameRange,
                                        hint: Suggest.hint(for: key, in: names) ?? "usage: \(verb.usage)")
                }
                guard !given.contains(key) else {
                    throw LanguageError(.syntax, "'\(key)' is given twice", source: source, range: argument.nameRange)
                }
                values[key] = try evaluate(argument.value, as: parameter.type, source: source, parameter: parameter, verb: verb)
                given.insert(key)
                ranges[key] = argument.value.range
            } else if position < verb.positional.count {
                let parameter = verb.positional[position]
                position += 1
                values[parameter.name] = try evaluate(argument.value, as: parameter.type, source: source, parameter: parameter, verb: verb)
                given.insert(parameter.name)
                ranges[parameter.name] = argument.value.range
            } else if let r = verb.rest {
                ranges["\(r.name).\(rest.count)"] = argument.value.range
                rest.append(try evaluate(argument.value, as: r.type, source: source, parameter: r, verb: verb))
            } else {
                throw LanguageError(.syntax, "'\(verb.name)' takes \(verb.positional.count) positional argument\(verb.positional.count == 1 ? "" : "s")",
                                    source: source, range: argument.value.range, hint: "usage: \(verb.usage)")
            }
        }
        for p in verb.positional + verb.keywords where !given.contains(p.name) {
            if let d = p.defaultValue {
                values[p.name] = d
            } else if p.required {
                throw LanguageError(.syntax, "'\(verb.name)' needs \(p.name.uppercased()) (\(registry.help(of: p)))", source: source,
                                    range: statement.verbRange, hint: "usage: \(verb.usage)")
            }
        }
        return Invocation(verb: verb, target: statement.target, values: values, given: given, rest: rest,
                          statement: statement, argumentRanges: ranges)
    }

    /// Turns an expression into a value of the type a parameter wants.
    public func evaluate(_ expr: Expr, as type: ParameterType, source: SourceText,
                         parameter: Parameter? = nil, verb: Verb? = nil) throws -> Value {
        func fail(_ message: String, hint: String? = nil) -> LanguageError {
            LanguageError(.type, message, source: source, range: expr.range, hint: hint)
        }
        let what = parameter.map { "\(verb.map { "'\($0.name)' " } ?? "")\($0.name)" } ?? "value"
        var raw: Value
        switch expr.kind {
        case .int(let i): raw = .int(i)
        case .double(let d): raw = .double(d)
        case .string(let parts): raw = .string(try expand(parts, expr: expr, source: source))
        case .rawString(let s): raw = .string(s)
        case .op(let o):
            guard case .choice(let allowed) = type, allowed.contains(o) else {
                throw fail("'\(o)' is a comparison; it belongs in 'check' or 'assert'")
            }
            return .string(o)
        case .list(let items):
            raw = .list(try items.map { try evaluate($0, as: .any, source: source) })
        case .word(let w):
            switch type {
            case .name:
                guard Parser.isName(w) else { throw fail("'\(w)' is not a name (letters, digits and _)") }
                return .string(w)
            case .choice(let allowed) where allowed.contains(w):
                return .string(w)
            default: break
            }
            let root = String(w.prefix { $0 != "." })
            if values[root] == nil, !w.contains("${"), !["true", "false", "none"].contains(w) {
                switch type {
                case .int, .double, .bool, .list:
                    if root != w, Parser.isName(root) {
                        throw fail("unknown name '\(root)' (in '\(w)'): \(what) must be \(Session.article(type))",
                                   hint: Suggest.hint(for: root, in: names))
                    }
                    throw fail("\(what) must be \(Session.article(type)), not the word '\(w)'",
                               hint: Suggest.hint(for: root, in: names))
                default: break
                }
            }
            raw = try resolveWord(w, expr: expr, source: source, type: type)
        }
        return try coerce(raw, to: type, what: what, fail: fail)
    }

    func coerce(_ raw: Value, to type: ParameterType, what: String, fail: (String, String?) -> LanguageError) throws -> Value {
        switch (type, raw) {
        case (.any, _), (.int, .int), (.double, .double), (.bool, .bool), (.list, .list), (.string, .string):
            return raw
        case (.double, .int(let i)):
            return .double(Double(i))
        case (.path, .string(let s)):
            return .string(s == "~" || s.hasPrefix("~/") ? (environment["HOME"] ?? NSHomeDirectory()) + s.dropFirst() : s)
        case (.name, .string(let s)) where Parser.isName(s):
            return raw
        case (.text, _):
            return .string(raw.text)
        case (.choice(let allowed), .string(let s)):
            guard allowed.contains(s) else {
                throw fail("\(what) must be one of \(allowed.joined(separator: ", ")), not \(Value.quote(s))",
                           Suggest.hint(for: s, in: allowed))
            }
            return raw
        case (.object(let t), .object(let o)):
            guard t.isEmpty || o.typeName == t else { throw fail("\(what) must be a \(t), not a \(o.typeName)", nil) }
            return raw
        default:
            var hint: String? = nil
            if case .object(let t) = type {
                if case .string(let s) = raw { hint = Suggest.hint(for: s, in: names) }
                hint = hint ?? objectHint(t)
            }
            throw fail("\(what) must be \(Session.article(type)), not \(Session.article(raw))", hint)
        }
    }

    /// Where to find an object of `type` for a parameter given something else: the session's own (up to
    /// three names), or the verb that makes one (`Verb.makes`) with its first example; nil for any object.
    func objectHint(_ type: String) -> String? {
        guard !type.isEmpty else { return nil }
        let have = names.filter { if case .object(let o)? = values[$0] { return o.typeName == type }; return false }
        if !have.isEmpty {
            return "the \(type)\(have.count == 1 ? "" : "s") you have: " + have.prefix(3).joined(separator: ", ")
        }
        guard let maker = registry.maker(of: type) else { return nil }
        return "make one first with \(maker.name)" + (maker.examples.first.map { ", as in: \($0)" } ?? "")
    }

    static func article(_ type: ParameterType) -> String {
        switch type {
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "true or false"
        case .list: return "a list"
        case .string, .path: return "text"
        case .name: return "a name"
        case .choice(let v): return "one of " + v.joined(separator: ", ")
        case .object(let t): return t.isEmpty ? "an object" : "a \(t)"
        case .any: return "a value"
        case .text: return "text"
        }
    }

    static func article(_ value: Value) -> String {
        switch value {
        case .none: return "none"
        case .int(let i): return "the integer \(i)"
        case .double(let d): return "the number \(Value.format(d))"
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return "the text \(Value.quote(s))"
        case .list: return "a list"
        case .object(let o): return "a \(o.typeName)"
        }
    }

    /// A bare word: a literal keyword, a name or field path in the session, or (where text is
    /// expected) the word itself as text, so `open notebooks/a.mednb` needs no quotes.
    func resolveWord(_ w: String, expr: Expr, source: SourceText, type: ParameterType) throws -> Value {
        switch w {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "none": return .none
        default: break
        }
        if w.contains("${") {
            var parts: [StringPart] = []
            var rest = Substring(w)
            while let open = rest.range(of: "${") {
                if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
                guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                    throw LanguageError(.syntax, "'${' is never closed with '}'", source: source, range: expr.range)
                }
                parts.append(Lexer.envPart(String(rest[open.upperBound..<close])))
                rest = rest[rest.index(after: close)...]
            }
            if !rest.isEmpty { parts.append(.text(String(rest))) }
            return .string(try expand(parts, expr: expr, source: source))
        }
        let path = w.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let root = values[path[0]], path.allSatisfy({ !$0.isEmpty }) {
            // Where a path is expected, `cmp.json` is a file name when the object `cmp` has no such field.
            if type == .path, path.count > 1, (try? field(path: path, root: root, expr: expr, source: source)) == nil { return .string(w) }
            return try field(path: path, root: root, expr: expr, source: source)
        }
        switch type {
        case .string, .path, .choice, .text: return .string(w)
        default:
            let candidates = names + (type == .any ? Array(registry.verbNames) : [])
            if Parser.isName(path[0]) && !w.contains("/") {
                throw LanguageError(.unknownName, "unknown name '\(path[0])'", source: source,
                                    range: SourceRange(line: expr.range.line, column: expr.range.column, length: path[0].count),
                                    hint: Suggest.hint(for: path[0], in: candidates) ?? Session.otherShellWords[w] ?? "quote text: \"\(w)\"")
            }
            return .string(w)
        }
    }

    /// Words other shells know, typed here out of habit, and what does their work in medrepl.
    static let otherShellWords: [String: String] = [
        "clear": "to clear the screen press Ctrl-L", "cls": "to clear the screen press Ctrl-L",
        "quit": "to leave medrepl: exit (or Ctrl-D)", "q": "to leave medrepl: exit (or Ctrl-D)",
        "ls": "vars lists the names in the session; Tab completes file names", "pwd": "paths are relative to the folder medrepl started in",
    ]

    /// Follows `a.b.c` through object fields (and list indexes: `rows.0`).
    func field(path: [String], root: Value, expr: Expr, source: SourceText) throws -> Value {
        var current = root
        var column = expr.range.column + path[0].count
        for name in path.dropFirst() {
            let range = SourceRange(line: expr.range.line, column: column + 1, length: name.count)
            column += name.count + 1
            switch current {
            case .object(let o):
                guard let v = o.field(name) else {
                    throw LanguageError(.unknownName, "\(o.typeName) has no field '\(name)'", source: source, range: range,
                                        hint: Suggest.hint(for: name, in: o.fieldNames) ?? "fields: \(o.fieldNames.joined(separator: ", "))")
                }
                current = v
            case .list(let items):
                guard let i = Int(name), i >= 0, i < items.count else {
                    throw LanguageError(.unknownName, "list index '\(name)' is not in 0..<\(items.count)", source: source, range: range)
                }
                current = items[i]
            default:
                throw LanguageError(.unknownName, "\(current.typeName) has no fields", source: source, range: range)
            }
        }
        return current
    }

    func expand(_ parts: [StringPart], expr: Expr, source: SourceText) throws -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .env(let name, let fallback):
                if let v = environment[name], !(v.isEmpty && fallback != nil) {
                    out += v
                } else if let f = fallback {
                    out += f
                } else {
                    throw LanguageError(.unknownName, "environment variable \(name) is not set", source: source, range: expr.range,
                                        hint: "give a default with ${\(name):-default}")
                }
            }
        }
        return out
    }
}
