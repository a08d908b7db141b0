import Foundation

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
        for alternative in idea {
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

    /// How feedback names an idea: its first alternative, and the others in brackets.
    public static func name(of idea: [String]) -> String {
        guard let first = idea.first else { return "(empty idea)" }
        return idea.count == 1 ? first : "\(first) (or \(idea.dropFirst().joined(separator: ", ")))"
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

    static func wordCount(_ text: String) -> Int {
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
