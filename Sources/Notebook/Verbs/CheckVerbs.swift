import Foundation
import Language

/// The comparison behind `check` and `assert`, separate from the verbs so it can be tested directly.
///
/// ```swift
/// try Comparison.compare(.double(0.30001), "~=", .double(0.3), tolerance: 1e-3)   // nil: passes
/// try Comparison.compare(.string("aspirin"), "contains", .string("ibu"))            // "... does not contain ..."
/// ```
public enum Comparison {
    public static let operators = ["==", "!=", "~=", "<", "<=", ">", ">=", "contains", "matches"]

    /// Returns nil when the comparison holds, or a sentence saying why not.
    public static func compare(_ actual: Value, _ op: String, _ expected: Value,
                               tolerance: Double = 1e-6, ignoreCase: Bool = false) throws -> String? {
        switch op {
        case "==":
            if equal(actual, expected, ignoreCase: ignoreCase) { return nil }
            return "expected \(expected.display), got \(actual.display)"
        case "!=":
            if !equal(actual, expected, ignoreCase: ignoreCase) { return nil }
            return "expected anything but \(expected.display)"
        case "~=":
            if let why = try close(actual, expected, tolerance: tolerance) { return why }
            return nil
        case "<", "<=", ">", ">=":
            guard let a = actual.number, let b = expected.number else {
                if case .string(let a) = actual, case .string(let b) = expected {
                    let holds = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b
                    return holds ? nil : "expected text \(op) \(expected.display), got \(actual.display)"
                }
                throw ComparisonError("'\(op)' compares numbers (or texts), not \(actual.typeName) and \(expected.typeName)")
            }
            let holds = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b
            return holds ? nil : "expected a value \(op) \(expected.display), got \(actual.display)"
        case "contains":
            switch (actual, expected) {
            case (.string(let a), .string(let b)):
                let found = ignoreCase ? a.range(of: b, options: .caseInsensitive) != nil : a.contains(b)
                return found ? nil : "\(shorten(actual.display)) does not contain \(expected.display)"
            case (.list(let items), _):
                return items.contains(where: { equal($0, expected, ignoreCase: ignoreCase) }) ? nil
                    : "the list does not contain \(expected.display)"
            default:
                throw ComparisonError("'contains' looks in text or a list, not in \(actual.typeName)")
            }
        case "matches":
            guard case .string(let pattern) = expected else { throw ComparisonError("'matches' needs a regular expression as text") }
            guard case .string(let text) = actual else { throw ComparisonError("'matches' tests text, not \(actual.typeName)") }
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: pattern, options: ignoreCase ? [.caseInsensitive] : [])
            } catch {
                throw ComparisonError("bad regular expression \(Value.quote(pattern))")
            }
            let found = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            return found ? nil : "\(shorten(actual.display)) does not match \(Value.quote(pattern))"
        default:
            throw ComparisonError("unknown comparison '\(op)'")
        }
    }

    static func equal(_ a: Value, _ b: Value, ignoreCase: Bool) -> Bool {
        if ignoreCase, case .string(let x) = a, case .string(let y) = b { return x.lowercased() == y.lowercased() }
        return a == b
    }

    static func close(_ a: Value, _ b: Value, tolerance: Double) throws -> String? {
        if let x = a.number, let y = b.number {
            return abs(x - y) <= tolerance ? nil
                : "expected \(b.display) within \(Value.format(tolerance)), got \(a.display) (off by \(Value.format(abs(x - y))))"
        }
        if case .list(let xs) = a, case .list(let ys) = b {
            guard xs.count == ys.count else { return "expected \(ys.count) items, got \(xs.count)" }
            for (i, (x, y)) in zip(xs, ys).enumerated() {
                if let why = try close(x, y, tolerance: tolerance) { return "item \(i): " + why }
            }
            return nil
        }
        throw ComparisonError("'~=' compares numbers or lists of numbers, not \(a.typeName) and \(b.typeName)")
    }

    static func shorten(_ s: String) -> String { s.count > 80 ? String(s.prefix(77)) + "...\"" : s }
}

/// A comparison that cannot be made (wrong types, a bad regular expression).
public struct ComparisonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension VerbGroup {
    /// `check` and `assert`.
    public static var checks: VerbGroup {
        let parameters = [
            Parameter("actual", .any, help: "the value to test (a name, a field path or a literal)"),
            Parameter("op", .choice(Comparison.operators), optional: true,
                      help: "the comparison; without one, ACTUAL must be true"),
            Parameter("expected", .any, optional: true, help: "the value to compare with"),
        ]
        let options = [
            Parameter("tol", .double, default: .double(1e-6), help: "absolute tolerance for ~="),
            Parameter("ignore_case", .bool, default: .bool(false), help: "compare text without regard to case"),
            Parameter("label", .string, optional: true, help: "what the check is about, shown in its result line"),
            Parameter("points", .double, default: .double(1), help: "what the check is worth when graded"),
        ]
        let hint = Parameter("hint", .string, optional: true, help: "a hint shown to a student who fails the check (grading feedback)")
        return VerbGroup("Checks", intro: """
            Checks compare values, for notebooks and exercises. `check` writes `ok` or `FAIL` and goes on; \
            `assert` is silent when it holds and stops the cell when it does not.
            """, verbs: [
            Verb("check", summary: "Compare values and write `ok: ...` or `FAIL: ...`; the cell goes on either way.",
                 details: "Comparisons: `==` `!=` (ints and floats compare as numbers), `~=` (within `tol=`), "
                    + "`<` `<=` `>` `>=`, `contains` (text or list), `matches` (a regular expression found in the text; "
                    + "write it 'single-quoted' so backslashes stay as written).",
                 positional: parameters, keywords: options + [hint],
                 examples: ["check config.r == 16", "check loss ~= 2.31 tol=0.01", "check answer contains \"insulin\" ignore_case=true",
                            "check reply matches '^[A-D]$'"]) { inv, session in
                let (description, failure) = try evaluateCheck(inv)
                let points = try inv.double("points")
                session.checks.append(CheckResult(label: description, passed: failure == nil, message: failure ?? "", points: points,
                                                  hint: try inv.optionalString("hint")))
                if let failure {
                    session.writeLine("FAIL: \(description): \(failure)")
                } else {
                    session.writeLine("ok: \(description)")
                }
                return .bool(failure == nil)
            }.quiet(),
            Verb("assert", summary: "Stop the cell with an error unless the comparison holds.",
                 details: "Takes the same comparisons and options as `check`.",
                 positional: parameters, keywords: options,
                 examples: ["assert rows == 200", "assert config.alpha > config.r"]) { inv, _ in
                let (description, failure) = try evaluateCheck(inv)
                if let failure {
                    throw LanguageError(.assertion, "assertion failed: \(description): \(failure)",
                                        source: inv.statement?.source, range: inv.statement?.verbRange)
                }
                return .none
            },
        ])
    }

    /// The check's description (label, or the source text of its arguments) and its failure, if any.
    static func evaluateCheck(_ inv: Invocation) throws -> (String, String?) {
        let actual = inv.value("actual")
        let text = inv.sourceText(of: "actual")
        let failure: String?
        var description: String
        do {
            if inv.has("op") {
                guard inv.has("expected") else { throw inv.error("'\(try inv.string("op"))' needs a value to compare with", at: "op") }
                let op = try inv.string("op")
                description = "\(text) \(op) \(inv.sourceText(of: "expected"))"
                failure = try Comparison.compare(actual, op, inv.value("expected"), tolerance: inv.double("tol"),
                                                 ignoreCase: inv.bool("ignore_case"))
            } else {
                description = text
                guard case .bool(let b) = actual else {
                    throw inv.error("without a comparison, \(text) must be true or false, not \(actual.typeName)", at: "actual",
                                    hint: "compare it: check \(text) == VALUE")
                }
                failure = b ? nil : "it is false"
            }
        } catch let e as ComparisonError {
            throw inv.error(e.description, at: "actual")
        }
        if let label = try inv.optionalString("label") { description = label }
        return (description, failure)
    }
}

extension Verb {
    /// The same verb with its result not shown.
    func quiet() -> Verb { var v = self; v.quietResult = true; return v }
}

extension Invocation {
    /// The argument as the user wrote it (for messages), or its value when it has no source.
    public func sourceText(of name: String) -> String {
        guard let range = argumentRanges[name], let source = statement?.source,
              range.line >= 1, range.line <= source.lines.count else { return value(name).display }
        let line = Array(source.lines[range.line - 1])
        let start = min(max(0, range.column - 1), line.count)
        let end = min(line.count, start + range.length)
        return String(line[start..<end])
    }
}
