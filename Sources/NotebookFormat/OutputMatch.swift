import Foundation

/// Compares recorded output (which may hold patterns) with the output of a run, and writes
/// unified diffs when they differ.
///
/// A recorded line ending in ` (re)` is a regular expression that must match the whole line;
/// one ending in ` (glob)` may use `*` (any text) and `?` (one character); a line that is
/// exactly `...` stands for any number of lines, none included.
///
/// ```swift
/// OutputMatch.matches(expected: ["loaded in \\d+\\.\\d+ s (re)", "..."], actual: ["loaded in 1.25 s", "a", "b"])   // true
/// ```
public enum OutputMatch {
    public static let ellipsis = "..."

    /// True when one recorded line accepts one actual line.
    public static func lineMatches(_ expected: String, _ actual: String) -> Bool {
        if expected == actual { return true }
        if expected.hasSuffix(" (re)") {
            let pattern = "^(?:" + expected.dropLast(5) + ")$"
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
            return regex.firstMatch(in: actual, range: NSRange(actual.startIndex..., in: actual)) != nil
        }
        if expected.hasSuffix(" (glob)") {
            return globMatches(Array(expected.dropLast(7)), Array(actual))
        }
        return false
    }

    /// A recorded line as a reader should see it in an export: a pattern's varying parts as `…` (`\\d*`, `[\\d.,]+`,
    /// `*` and the like), its escapes undone, its ` (re)` / ` (glob)` marker gone; a plain line as it is.
    ///
    /// ```swift
    /// OutputMatch.readable("  10 \\| 2\\.73\\d* \\| 1\\.70\\d* (re)")   // "  10 | 2.73… | 1.70…"
    /// ```
    public static func readable(_ line: String) -> String {
        if line.hasSuffix(" (glob)") {
            var out = "", escaped = false
            for c in line.dropLast(7) {
                if c == "\\" && !escaped { escaped = true; continue }
                out += !escaped && (c == "*" || c == "?") ? "…" : String(c)
                escaped = false
            }
            return out
        }
        guard line.hasSuffix(" (re)") else { return line }
        var text = String(line.dropLast(5))
        // character classes and groups with a repeat, and bare repeated escapes, become an ellipsis
        for pattern in [#"\[[^\]]*\][*+?]?(\{\d+(,\d*)?\})?"#, #"\\[dDsSwW][*+?]?(\{\d+(,\d*)?\})?"#, #"\.[*+]\??"#] {
            text = text.replacingOccurrences(of: pattern, with: "…", options: .regularExpression)
        }
        text = text.replacingOccurrences(of: #"\\(.)"#, with: "$1", options: .regularExpression)
        return text.replacingOccurrences(of: "……", with: "…")
    }

    static func globMatches(_ p: [Character], _ s: [Character]) -> Bool {
        // reachable[j]: the pattern prefix read so far can match s[..<j].
        var reachable = [Bool](repeating: false, count: s.count + 1)
        reachable[0] = true
        var escaped = false
        for c in p {
            if c == "\\" && !escaped { escaped = true; continue }
            var next = [Bool](repeating: false, count: s.count + 1)
            if c == "*" && !escaped {
                var any = false
                for j in 0...s.count { any = any || reachable[j]; next[j] = any }
            } else {
                for j in 0..<s.count where reachable[j] && ((c == "?" && !escaped) || s[j] == c) { next[j + 1] = true }
            }
            escaped = false
            reachable = next
        }
        return reachable[s.count]
    }

    /// True when the recorded lines accept the actual lines, with `...` spanning any number of lines.
    public static func matches(expected: [String], actual: [String]) -> Bool {
        // reachable[j]: expected lines read so far can match actual[..<j].
        var reachable = [Bool](repeating: false, count: actual.count + 1)
        reachable[0] = true
        for e in expected {
            var next = [Bool](repeating: false, count: actual.count + 1)
            if e == ellipsis {
                var any = false
                for j in 0...actual.count { any = any || reachable[j]; next[j] = any }
            } else {
                for j in 0..<actual.count where reachable[j] && lineMatches(e, actual[j]) { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[actual.count]
    }

    /// A line of a diff: kept (` `), recorded only (`-`) or new (`+`).
    public enum DiffLine: Equatable, Sendable {
        case same(String), removed(String), added(String)
    }

    /// The line-by-line difference between recorded and actual lines (longest common subsequence,
    /// with patterns accepted as equal).
    public static func diff(expected: [String], actual: [String]) -> [DiffLine] {
        let n = expected.count, m = actual.count
        guard n * m <= 4_000_000 else { return expected.map { .removed($0) } + actual.map { .added($0) } }
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = lineMatches(expected[i], actual[j]) ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [DiffLine] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, lineMatches(expected[i], actual[j]) { out.append(.same(expected[i])); i += 1; j += 1 }
            else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] { out.append(.removed(expected[i])); i += 1 }
            else { out.append(.added(actual[j])); j += 1 }
        }
        return out
    }

    /// A unified diff with `context` lines around each change. `firstLine` is the file line of the
    /// first line on both sides, so hunk headers point into the notebook.
    public static func unifiedDiff(_ lines: [DiffLine], fromName: String, toName: String,
                                   firstLine: Int = 1, context: Int = 3) -> String {
        let changed = lines.indices.filter { if case .same = lines[$0] { return false } else { return true } }
        guard !changed.isEmpty else { return "" }
        var out = "--- \(fromName)\n+++ \(toName)\n"
        // Group changes whose context overlaps into hunks.
        var hunks: [ClosedRange<Int>] = []
        for k in changed {
            let range = max(0, k - context)...min(lines.count - 1, k + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        for hunk in hunks {
            var oldStart = firstLine, newStart = firstLine
            for line in lines[..<hunk.lowerBound] {
                switch line {
                case .same: oldStart += 1; newStart += 1
                case .removed: oldStart += 1
                case .added: newStart += 1
                }
            }
            var oldCount = 0, newCount = 0, body = ""
            for line in lines[hunk] {
                switch line {
                case .same(let t): oldCount += 1; newCount += 1; body += " " + t + "\n"
                case .removed(let t): oldCount += 1; body += "-" + t + "\n"
                case .added(let t): newCount += 1; body += "+" + t + "\n"
                }
            }
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n" + body
        }
        return out
    }
}
