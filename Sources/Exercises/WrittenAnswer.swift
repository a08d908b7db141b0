import Foundation
import Language

/// What a good written answer must hold, and how an answer measures up: the engine of `check_answer`.
///
/// An *idea* is a list of alternatives (synonyms); the answer holds the idea when it holds any of
/// them. Each alternative is a regular expression (plain words and phrases are fine), matched without
/// regard to case and only at word boundaries, so `"mask"` does not fire inside `"unmasked"`; a
/// space in an alternative also accepts a hyphen or a line break (`"next token"` finds `"next-token"`).
///
/// ```swift
/// var rubric = AnswerRubric()
/// rubric.required = [["causal", "next[- ]token", "autoregressive"], ["mask\\w*"]]
/// rubric.numbers = [16]
/// let verdict = try rubric.assess("A causal LM: each token predicts the next; nothing is masked. r=16")
/// verdict.fraction    // 1.0
/// verdict.missing     // []
/// ```
public struct AnswerRubric: Sendable {
    /// Ideas that must all appear.
    public var required: [[String]] = []
    /// Ideas of which at least `minimumOptional` must appear (one requirement together).
    public var optional: [[String]] = []
    public var minimumOptional = 1
    /// Numbers that must appear (`95%` also counts as 0.95 and `0.95` as 95%).
    public var numbers: [Double] = []
    /// The option letter a multiple-choice answer must give (`"B"`, `"(b)"`, `"b) ..."`).
    public var choice: String?
    /// Misconceptions: each one found cancels one met requirement.
    public var wrong: [[String]] = []
    /// The fewest words an answer may have (one more requirement when set).
    public var minimumWords: Int?

    public init() {}

    /// The number of requirements an answer is scored against (at least one).
    public var requirementCount: Int {
        max(1, required.count + (optional.isEmpty ? 0 : 1) + numbers.count + (choice == nil ? 0 : 1) + (minimumWords == nil ? 0 : 1))
    }

    /// Scores an answer. Throws `AnswerRubricError` for an alternative that is not a valid regular expression.
    public func assess(_ answer: String) throws -> AnswerVerdict {
        var verdict = AnswerVerdict(requirements: requirementCount)
        if AnswerRubric.isUntouched(answer) {
            verdict.attempted = false
            return verdict
        }
        var met = 0
        for idea in required {
            if try AnswerRubric.holds(idea, in: answer) { met += 1 } else { verdict.missing.append(AnswerRubric.name(of: idea)) }
        }
        if !optional.isEmpty {
            var found: [String] = []
            var absent: [String] = []
            for idea in optional {
                if try AnswerRubric.holds(idea, in: answer) { found.append(AnswerRubric.name(of: idea)) } else { absent.append(AnswerRubric.name(of: idea)) }
            }
            if found.count >= minimumOptional {
                met += 1
            } else {
                verdict.missing.append("\(minimumOptional) of: " + (found + absent).joined(separator: "; ")
                                       + " (found \(found.count))")
            }
        }
        let written = AnswerRubric.numbers(in: answer)
        for n in numbers {
            if written.contains(where: { AnswerRubric.same($0, n) }) { met += 1 } else { verdict.missing.append("the number \(Value.format(n).replacingOccurrences(of: ".0", with: ""))") }
        }
        if let choice {
            let given = AnswerRubric.choiceLetter(in: answer)
            if given?.lowercased() == choice.lowercased() { met += 1 } else {
                verdict.missing.append(given.map { "the right option (you chose \($0.uppercased()))" } ?? "an option letter (\(choice.uppercased()) or another)")
            }
        }
        if let minimumWords {
            let count = AnswerRubric.wordCount(answer)
            if count >= minimumWords { met += 1 } else { verdict.missing.append("at least \(minimumWords) words (\(count) written)") }
        }
        for idea in wrong where try AnswerRubric.holds(idea, in: answer) {
            verdict.misconceptions.append(AnswerRubric.name(of: idea))
        }
        verdict.met = max(0, met - verdict.misconceptions.count)
        return verdict
    }

    /// True for an answer nobody wrote: empty, or still the student copy's `TODO` placeholder.
    public static func isUntouched(_ answer: String) -> Bool {
        let text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty || text.hasPrefix(StudentCopy.answerPlaceholderPrefix)
    }

    /// True when any alternative of the idea is found at word boundaries, ignoring case.
    public static func holds(_ idea: [String], in text: String) throws -> Bool {
        for alternative in idea where !alternative.hasPrefix(labelPrefix) {
            let body = alternative.replacingOccurrences(of: " ", with: "[\\s\\-]+")
            let pattern = "(?<![\\p{L}\\p{N}_])(?:" + body + ")(?![\\p{L}\\p{N}_])"
            let regex: NSRegularExpression
            do {
                regex = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
            } catch {
                throw AnswerRubricError("bad regular expression \(Value.quote(alternative)) in a key idea")
            }
            if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil { return true }
        }
        return false
    }

    /// An item `"label:the trade-off"` in an idea's list names the idea in feedback; it is not matched.
    public static let labelPrefix = "label:"

    /// How feedback names an idea, in words: its label when it has one, else its first alternative
    /// and the others in brackets, each without regular-expression syntax (`trade-?offs?` → "trade-off").
    public static func name(of idea: [String]) -> String {
        if let label = idea.first(where: { $0.hasPrefix(labelPrefix) }) {
            return label.dropFirst(labelPrefix.count).trimmingCharacters(in: .whitespaces)
        }
        var words: [String] = []
        for alternative in idea { let w = plainWords(alternative); if !w.isEmpty && !words.contains(w) { words.append(w) } }
        guard let first = words.first else { return "(empty idea)" }
        return words.count == 1 ? first : "\(first) (or \(words.dropFirst().joined(separator: ", ")))"
    }

    /// A regular expression read as the words it most plainly matches: an optional letter is dropped
    /// (`offs?` → "off") and an optional sign kept (`-?` → "-"), an optional group dropped, a group or class gives its first
    /// choice, `\w*`-style classes, anchors and repetition marks go, escapes give their character.
    ///
    /// ```swift
    /// AnswerRubric.plainWords("trade-?offs?")        // "trade-off"
    /// AnswerRubric.plainWords("(?:over|under)fit\\w*") // "overfit"
    /// ```
    public static func plainWords(_ pattern: String) -> String {
        var out = ""
        var chars = Array(pattern)[...]
        var groupStarts: [Int] = []   // out's length at each open group, to drop an optional one
        func skipQuantifier() {
            while let c = chars.first, "*+".contains(c) { chars.removeFirst() }
            if chars.first == "{" { while let c = chars.first { chars.removeFirst(); if c == "}" { break } } }
        }
        while let c = chars.popFirst() {
            switch c {
            case "\\":
                guard let e = chars.popFirst() else { break }
                if "wWdDsSbB".contains(e) {
                    if "sS".contains(e) && !out.hasSuffix(" ") && !out.isEmpty { out.append(" ") }
                    if chars.first == "?" { chars.removeFirst() }
                    skipQuantifier()
                } else { out.append(e) }
            case ")":
                let start = groupStarts.popLast() ?? out.count
                if chars.first == "?" { chars.removeFirst(); out = String(out.prefix(start)) }
                skipQuantifier()
            case "^", "$": break
            case "(":
                groupStarts.append(out.count)
                if chars.first == "?" { while let d = chars.first, d != ":" && d != ")" { chars.removeFirst() }; if chars.first == ":" { chars.removeFirst() } }
            case "|":
                // The first choice of the group (or of the whole pattern) is enough: skip to its end.
                var depth = 0
                while let d = chars.first {
                    if d == "(" { depth += 1 } else if d == ")" { if depth == 0 { break }; depth -= 1 }
                    if d == "\\" { chars.removeFirst() }
                    chars.removeFirst()
                }
            case "[":
                var first: Character? = nil
                while let d = chars.popFirst(), d != "]" {
                    if first == nil && d != "^" { first = d == "\\" ? chars.popFirst() : d }
                }
                if chars.first == "?" { chars.removeFirst(); if let f = first, !f.isLetter { out.append(f) } }
                else if let f = first { out.append(f) }
                skipQuantifier()
            case "?", "*", "+", ".": break
            default:
                if chars.first == "?" {
                    chars.removeFirst()
                    if !c.isLetter { out.append(c) }
                } else { out.append(c) }
                skipQuantifier()
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// Every number written in the text; `95%` gives both 95 and 0.95.
    public static func numbers(in text: String) -> [Double] {
        let regex = try! NSRegularExpression(pattern: "(?<![\\p{L}\\d.])-?\\d[\\d,]*(?:\\.\\d+)?(?:[eE][-+]?\\d+)?(%?)")
        var out: [Double] = []
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range, in: text) else { continue }
            var token = String(text[range]).replacingOccurrences(of: ",", with: "")
            let percent = token.hasSuffix("%")
            if percent { token.removeLast() }
            guard let value = Double(token) else { continue }
            out.append(value)
            if percent { out.append(value / 100) }
        }
        return out
    }

    static func same(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= 1e-9 * max(1, abs(a), abs(b))
    }

    /// The option letter at the start of a multiple-choice answer: `B`, `(b)`, `b)`, `B.`, `B - because`.
    public static func choiceLetter(in text: String) -> String? {
        let regex = try! NSRegularExpression(pattern: "^\\s*(?:option\\s+)?\\(?([A-Za-z])\\)?(?:[.):,\\-]|\\s|$)", options: [.caseInsensitive])
        guard let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let r = Range(m.range(at: 1), in: text) else { return nil }
        return String(text[r])
    }

    /// How many words an answer has: what lies between spaces, where it holds a letter or a digit (`answer` reports it).
    public static func wordCount(_ text: String) -> Int {
        text.split { $0.isWhitespace }.filter { $0.contains { $0.isLetter || $0.isNumber } }.count
    }
}

/// How an answer measured up against an `AnswerRubric`.
public struct AnswerVerdict: Sendable, Equatable {
    /// False when the answer is empty or the untouched placeholder.
    public var attempted = true
    public var requirements: Int
    /// Requirements met, less one per misconception.
    public var met = 0
    /// Feedback: the ideas, numbers or choice the answer lacks.
    public var missing: [String] = []
    /// Feedback: the misconceptions it states.
    public var misconceptions: [String] = []

    public init(requirements: Int) { self.requirements = requirements }

    /// The share of the points earned, 0...1.
    public var fraction: Double { attempted ? Double(met) / Double(requirements) : 0 }

    /// One sentence of feedback: "not attempted", "missing: ...; states: ...", or "" when perfect.
    public var feedback: String {
        guard attempted else { return "not attempted" }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing: " + missing.joined(separator: "; ")) }
        if !misconceptions.isEmpty { parts.append("says what is wrong: " + misconceptions.joined(separator: "; ")) }
        return parts.joined(separator: "; ")
    }
}

/// A rubric that cannot be used (a bad regular expression).
public struct AnswerRubricError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
