// Deciding whether a prediction states the ground-truth answer: the notebook's `check_accuracy`
// reproduced exactly, a normalised matcher beside it, and flags for the partial matcher's known
// false positives.
import Foundation

/// How a prediction matched the ground truth.
public enum MatchType: String, Equatable, Sendable, CaseIterable {
    /// Notebook: the lower-cased truth is a substring of the prediction. Normalised: equal after normalising.
    case exact
    /// Notebook only: at least 70% of the truth's content words occur in the prediction.
    case partial
    /// Normalised only: the truth's normalised words occur as a run of whole words in the prediction.
    case contained
    /// Token F1 only: the prediction's and the truth's words overlap with an F1 of at least 0.5, short of equal.
    case overlap
    /// No match.
    case none = "no_match"

    /// Counts as correct.
    public var isMatch: Bool { self != .none }
}

/// A rule deciding whether a prediction states the ground truth. A new matcher is one type conforming to this
/// and one line in `AnswerMatchers.all`: `matcher=NAME`, the reports, the per-example verdicts, the CSV's
/// `NAME_match` column and the summaries follow from there.
///
/// ```swift
/// enum ExactMatcher: AnswerMatcher {
///     static let name = "exact"
///     static let verdicts: [MatchType] = [.exact, .none]
///     static func check(prediction: String, groundTruth: String) -> MatchType { prediction == groundTruth ? .exact : .none }
/// }
/// ```
public protocol AnswerMatcher {
    /// `matcher=NAME`, "NAME matcher" in reports, `NAME_match` in the CSV.
    static var name: String { get }
    /// The verdicts it gives, in report order (`exact, partial, no_match`).
    static var verdicts: [MatchType] { get }
    static func check(prediction: String, groundTruth: String) -> MatchType
    /// Whether a verdict counts as correct, given the example's flags (default: any match).
    static func isCorrect(_ match: MatchType, flags: [MatchFlag]) -> Bool
}

extension AnswerMatcher {
    public static func isCorrect(_ match: MatchType, flags: [MatchFlag]) -> Bool { match.isMatch }
}

/// Every matcher medrepl knows, in the order of the CSV's columns.
public enum AnswerMatchers {
    public static let all: [any AnswerMatcher.Type] = [NotebookMatcher.self, NormalisedMatcher.self, TokenF1Matcher.self]
    public static var names: [String] { all.map { $0.name } }
    public static func named(_ name: String) -> (any AnswerMatcher.Type)? { all.first { $0.name == name } }

    /// Every matcher's verdict against the answer or any of its aliases, and the flags. Each matcher takes the first of
    /// the answer and its aliases under which the prediction is correct (else its verdict on the answer); the flags are
    /// those against the answer and against every alias a matcher took, so a negated alias is caught as a negated answer.
    ///
    /// ```swift
    /// let j = AnswerMatchers.judge(prediction: "heart attack", groundTruth: "Myocardial infarction", aliases: ["heart attack"])
    /// j.matches["normalised"]   // .exact
    /// ```
    public static func judge(prediction: String, groundTruth: String, aliases: [String] = []) -> (matches: [String: MatchType], flags: [MatchFlag]) {
        let truthFlags = MatchFlags.flags(prediction: prediction, groundTruth: groundTruth)
        var matches: [String: MatchType] = [:], flags = Set(truthFlags)
        for m in all {
            var verdict = m.check(prediction: prediction, groundTruth: groundTruth)
            if !m.isCorrect(verdict, flags: truthFlags) {
                for alias in aliases {
                    let v = m.check(prediction: prediction, groundTruth: alias), f = MatchFlags.flags(prediction: prediction, groundTruth: alias)
                    if m.isCorrect(v, flags: f) { verdict = v; flags.formUnion(f); break }
                }
            }
            matches[m.name] = verdict
        }
        return (matches, MatchFlag.allCases.filter(flags.contains))
    }
}

/// The notebook's `check_accuracy`, reproduced exactly.
///
/// ```swift
/// NotebookMatcher.check(prediction: "not diabetes mellitus", groundTruth: "Diabetes mellitus")   // .exact
/// NotebookMatcher.check(prediction: "cefaclor", groundTruth: "Cefaclor.")                       // .none
/// ```
public enum NotebookMatcher: AnswerMatcher {
    public static let name = "notebook"
    public static let verdicts: [MatchType] = [.exact, .partial, .none]
    /// The notebook's 17 stop words, ignored by the partial rule.
    public static let stopWords: Set<String> = ["the", "a", "an", "and", "or", "of", "in", "on", "at", "to",
                                                "for", "with", "by", "is", "are", "was", "were"]
    /// The share of content words the partial rule needs.
    public static let partialThreshold = 0.7

    /// The ground truth's content words: lower-cased, split on whitespace, longer than 2
    /// characters (Unicode scalars, as Python's `len`), not stop words.
    public static func contentWords(_ groundTruth: String) -> [String] {
        pythonSplit(groundTruth.lowercased()).filter { $0.unicodeScalars.count > 2 && !stopWords.contains($0) }
    }

    /// `.exact`, `.partial` or `.none`, as the notebook decides.
    public static func check(prediction: String, groundTruth: String) -> MatchType {
        let pred = prediction.lowercased(), truth = groundTruth.lowercased()
        if pythonContains(pred, truth) { return .exact }
        let words = contentWords(groundTruth)
        guard !words.isEmpty else { return .none }
        let found = words.filter { pythonContains(pred, $0) }.count
        return Double(found) / Double(words.count) >= partialThreshold ? .partial : .none
    }

    /// Python's `needle in haystack` on code points (Swift's `contains` compares grapheme
    /// clusters, which would miss "e" inside "é" written as e + combining accent).
    static func pythonContains(_ haystack: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        let h = Array(haystack.unicodeScalars), n = Array(needle.unicodeScalars)
        guard n.count <= h.count else { return false }
        outer: for start in 0...(h.count - n.count) {
            for k in 0..<n.count where h[start + k] != n[k] { continue outer }
            return true
        }
        return false
    }

    /// Python's `str.split()` with no argument: runs of whitespace separate, no empty words.
    static func pythonSplit(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) {
                if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }
}

/// A matcher that ignores what does not change an answer: case, punctuation (the trailing period
/// of "Cefaclor."), articles, hyphens versus spaces, and a plural "s".
///
/// ```swift
/// NormalisedMatcher.check(prediction: "cefaclor", groundTruth: "Cefaclor.")                   // .exact
/// NormalisedMatcher.check(prediction: "Use beta blockers.", groundTruth: "Beta-blocker")     // .contained
/// NormalisedMatcher.normalise("The Beta-Blockers.")                                           // "beta blocker"
/// ```
public enum NormalisedMatcher: AnswerMatcher {
    public static let name = "normalised"
    public static let verdicts: [MatchType] = [.exact, .contained, .none]
    /// A match of an answer the prediction negates ("not diabetes") does not count.
    public static func isCorrect(_ match: MatchType, flags: [MatchFlag]) -> Bool { match.isMatch && !flags.contains(.negated) }
    static let articles: Set<String> = ["a", "an", "the"]

    /// The answer's words after normalising, joined by single spaces.
    public static func normalise(_ text: String) -> String { words(text).joined(separator: " ") }

    /// The normalised words: lower-cased, hyphens and dashes as spaces, other punctuation
    /// removed, articles dropped, a plural "s" removed.
    public static func words(_ text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for s in text.lowercased().unicodeScalars {
            let p = s.properties
            if p.isAlphabetic || p.numericType != nil {
                cleaned.append(s)
            } else if s == "'" || s == "\u{2019}" {
                continue  // "Addison's" reads as "addisons", then loses its s like a plural
            } else {
                cleaned.append(" ")  // whitespace, hyphens, dashes, slashes and other punctuation
            }
        }
        return String(cleaned).split(separator: " ").map(String.init)
            .filter { !articles.contains($0) }
            .map(singular)
    }

    /// "blockers" → "blocker"; "ss", "us" and "is" endings and short words are kept ("glass",
    /// "virus", "pelvis", "gas").
    static func singular(_ word: String) -> String {
        guard word.count > 3, word.hasSuffix("s"), !word.hasSuffix("ss"), !word.hasSuffix("us"), !word.hasSuffix("is") else { return word }
        return String(word.dropLast())
    }

    /// `.exact` when the normalised texts are equal, `.contained` when the truth's words occur as
    /// a run of whole words in the prediction, else `.none`.
    public static func check(prediction: String, groundTruth: String) -> MatchType {
        let truth = words(groundTruth), pred = words(prediction)
        guard !truth.isEmpty else { return .none }
        if truth == pred { return .exact }
        return wordRun(truth, in: pred) != nil ? .contained : .none
    }

    /// The index in `words` where `run` starts as consecutive whole words, or nil.
    static func wordRun(_ run: [String], in words: [String]) -> Int? {
        guard !run.isEmpty, run.count <= words.count else { return nil }
        for start in 0...(words.count - run.count) where Array(words[start..<start + run.count]) == run { return start }
        return nil
    }
}

/// SQuAD's token-level F1 (Rajpurkar et al. 2016, its official evaluate-v1.1.py): both texts lower-cased, ASCII
/// punctuation removed, the articles a, an and the dropped, split on whitespace; F1 of the two bags of words.
/// `.exact` at F1 = 1, `.overlap` at 0.5 or more, else `.none`. No negation rule: "not diabetes mellitus" overlaps
/// "Diabetes mellitus" with F1 0.8, one of the false positives `agreement` measures against a teacher's labels.
///
/// ```swift
/// TokenF1Matcher.f1(prediction: "the Denver Broncos", groundTruth: "Denver Broncos")   // 1.0
/// TokenF1Matcher.f1(prediction: "Broncos", groundTruth: "Denver Broncos")              // 0.667 (precision 1, recall 0.5)
/// ```
public enum TokenF1Matcher: AnswerMatcher {
    public static let name = "token_f1"
    public static let verdicts: [MatchType] = [.exact, .overlap, .none]
    /// The F1 from which a prediction counts as matching.
    public static let threshold = 0.5

    /// SQuAD's `normalize_answer`, as words.
    public static func words(_ text: String) -> [String] {
        let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)
        let kept = String.UnicodeScalarView(text.lowercased().unicodeScalars.filter { !punctuation.contains($0) })
        return String(kept).split(whereSeparator: { $0.isWhitespace }).map(String.init).filter { !NormalisedMatcher.articles.contains($0) }
    }

    /// SQuAD's `f1_score`: 2PR / (P + R) over the words both share (counted with multiplicity); when either text has
    /// no words, 1 if both have none, else 0.
    public static func f1(prediction: String, groundTruth: String) -> Double {
        let pred = words(prediction), truth = words(groundTruth)
        if pred.isEmpty || truth.isEmpty { return pred == truth ? 1 : 0 }
        var counts: [String: Int] = [:]
        for w in truth { counts[w, default: 0] += 1 }
        var same = 0
        for w in pred where counts[w, default: 0] > 0 { counts[w]! -= 1; same += 1 }
        guard same > 0 else { return 0 }
        let precision = Double(same) / Double(pred.count), recall = Double(same) / Double(truth.count)
        return 2 * precision * recall / (precision + recall)
    }

    public static func check(prediction: String, groundTruth: String) -> MatchType {
        guard !words(groundTruth).isEmpty else { return .none }
        let score = f1(prediction: prediction, groundTruth: groundTruth)
        return score == 1 ? .exact : score >= threshold ? .overlap : .none
    }
}

/// A reason to distrust a match.
public enum MatchFlag: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// The answer is negated or ruled out: "not diabetes", "no pneumothorax", "rule out sepsis".
    case negated
    /// The notebook's substring hit lies inside a longer word ("iron" in "environment").
    case insideWord = "inside-word"
    /// Only the partial rule matched: some of the answer's words are missing.
    case partialOnly = "partial-only"
    /// The prediction hedges between alternatives ("A or B"), so containing the answer proves little.
    case hedged
    /// The model produced no text.
    case emptyPrediction = "empty-prediction"

    public var description: String { rawValue }
}

/// Finds the known false positives of the notebook's matcher.
///
/// ```swift
/// MatchFlags.flags(prediction: "not diabetes mellitus", groundTruth: "Diabetes mellitus")   // [.negated]
/// ```
public enum MatchFlags {
    /// Words that negate or rule out what follows within a few words.
    static let negators: Set<String> = ["not", "no", "without", "never", "unlikely", "excluded", "exclude",
                                        "excludes", "absent", "absence", "isn", "isnt", "nor", "neither", "non", "against"]
    /// Two-word cues ("rule out", "ruled out").
    static let negatingPairs: [(String, String)] = [("rule", "out"), ("ruled", "out"), ("rules", "out"), ("rather", "than"), ("instead", "of")]
    /// How many words before the answer a negation still applies.
    static let window = 3

    /// The flags for a prediction judged against `groundTruth` (empty when nothing is suspicious).
    public static func flags(prediction: String, groundTruth: String) -> [MatchFlag] {
        if prediction.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return [.emptyPrediction] }
        var flags: [MatchFlag] = []
        let notebook = NotebookMatcher.check(prediction: prediction, groundTruth: groundTruth)
        if isNegated(prediction: prediction, groundTruth: groundTruth) { flags.append(.negated) }
        if notebook == .exact, !NotebookMatcher.pythonContains(" " + plainWords(prediction) + " ", " " + plainWords(groundTruth) + " ") {
            flags.append(.insideWord)
        }
        if notebook == .partial { flags.append(.partialOnly) }
        if notebook.isMatch, plainWordList(prediction).contains("or") { flags.append(.hedged) }
        return flags
    }

    /// True when the answer's first occurrence (or, for partial matches, the first content word)
    /// follows a negating word within ``window`` words.
    static func isNegated(prediction: String, groundTruth: String) -> Bool {
        let pred = plainWordList(prediction)
        var target = plainWordList(groundTruth)
        var at = NormalisedMatcher.wordRun(target, in: pred)
        if at == nil {
            // Partial matches: look at each content word instead.
            for word in NotebookMatcher.contentWords(groundTruth).map({ plainWordList($0) }) where !word.isEmpty {
                if let i = NormalisedMatcher.wordRun(word, in: pred) { at = i; target = word; break }
            }
        }
        guard let start = at else { return false }
        let before = Array(pred[max(0, start - window)..<start])
        if before.contains(where: negators.contains) { return true }
        for i in 0..<max(0, before.count - 1) where negatingPairs.contains(where: { $0 == (before[i], before[i + 1]) }) { return true }
        return false
    }

    private static func plainWordList(_ text: String) -> [String] {
        var out = String.UnicodeScalarView()
        for s in text.lowercased().unicodeScalars {
            if s == "'" || s == "\u{2019}" { continue }  // "isn't" → "isnt"
            out.append(s.properties.isAlphabetic || s.properties.numericType != nil ? s : " ")
        }
        return String(out).split(separator: " ").map(String.init)
    }

    private static func plainWords(_ text: String) -> String { plainWordList(text).joined(separator: " ") }
}
