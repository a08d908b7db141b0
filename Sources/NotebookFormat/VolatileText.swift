import Foundation

/// What changes from run to run in output that is otherwise reproducible: elapsed times, rates, figures
/// measured on the machine, paths under the temporary folder, and answers' confidences (which change with the
/// CPU's kernel level). `save` and `run --update` pass every
/// recorded line through `record`, so a line holding such a figure is written as a pattern (` (re)`) that
/// accepts any value of it, and the next `run --check` compares the rest of the line exactly. Verbs need
/// no care of their own: the rules below recognise figures by their unit or by their name.
///
/// ```swift
/// VolatileText.record("loaded smollm2 (x.gguf): 30 layers in 1.3 s")
/// // "loaded smollm2 \\(x\\.gguf\\): 30 layers in [\\d.,]+ s (re)"
/// VolatileText.record("loss 3.8712")   // "loss 3.8712": a loss is reproducible, kept as it is
/// ```
public enum VolatileText {
    /// One kind of volatile figure: how to find it in a line, and the pattern recorded for it.
    struct Rule {
        let name: String
        let find: NSRegularExpression
        /// The pattern for the whole match; `$1`-style groups of `find` that must stay literal are kept.
        let pattern: (_ match: String) -> String
    }

    static let number = #"[0-9][0-9,]*(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?"#
    static let numberPattern = #"[\d.,]+"#

    /// The rules, in the order they are tried on what earlier rules left.
    static let rules: [Rule] = {
        func rule(_ name: String, _ find: String, _ pattern: @escaping (String) -> String) -> Rule {
            Rule(name: name, find: try! NSRegularExpression(pattern: find), pattern: pattern)
        }
        // A figure followed by its unit keeps the unit literal: "1.3 s" -> "\d... s".
        func unit(_ name: String, _ units: String) -> Rule {
            rule(name, "(?<![A-Za-z0-9_.])" + number + "( ?(?:" + units + "))(?![A-Za-z0-9_/])") { match in
                let digits = match.prefix { "0123456789,.e-+".contains($0) }
                return numberPattern + escape(String(match.dropFirst(digits.count)))
            }
        }
        return [
            // rates first, so "52 tok/s" is not read as "52 tok" and "/s"
            unit("rate", #"tok/s|tokens/s|step/s|steps/s|it/s|ex/s|examples/s|rows/s|MiB/s|MB/s|GiB/s|GB/s|GFLOPS|TFLOPS|s/step|s/it|s/ex|s/example|ms/token|ms/tok"#),
            // durations: "1.3 s", "2.43s", "12 ms", "3 min"
            unit("duration", #"s|ms|µs|us|ns|min|sec|seconds"#),
            // clock durations as progress lines print them: 00:03, 1:02:03
            rule("clock", #"(?<![0-9:])[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9:])"#) { _ in #"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"# },
            // named figures as transformers prints them: 'train_runtime': 12.3, "time_seconds": 4.1
            rule("named", #"(['"]?[A-Za-z_]*(?:runtime|per_second|_seconds|seconds_per_[a-z]+|time)['"]?\s*[:=]\s*)"# + number) { match in
                let head = match.prefix { !"0123456789".contains($0) }
                return escape(String(head)) + numberPattern
            },
            // an answer's confidence (ask ... abstain_below=, the risk-coverage tables): the model's own probabilities,
            // which follow the last bits of the CPU's arithmetic and differ between kernel levels (AVX-512, AVX2,
            // scalar); what they decide (the answer or the fallback, the accuracies) stays literal
            rule("confidence", #"(confidence ≥ |mean token probability |, lowest |, whole answer )"# + number) { match in
                let head = ["confidence ≥ ", "mean token probability ", ", lowest ", ", whole answer "].first { match.hasPrefix($0) } ?? ""
                return escape(head) + #"[\d.,e+-]+"#
            },
            // paths under the temporary folder, which differ from run to run
            rule("temporary path", temporaryPrefixes.map { escape($0) + #"[^\s'"),]*"# }.joined(separator: "|")) { match in
                let prefix = temporaryPrefixes.first { match.hasPrefix($0) } ?? ""
                return escape(prefix) + #"[^\s'"),]*"#
            },
        ]
    }()

    /// Folders whose contents are different in every run.
    static var temporaryPrefixes: [String] {
        var list = ["/tmp/", "/var/tmp/"]
        let tmp = NSTemporaryDirectory()
        if !list.contains(where: { tmp.hasPrefix($0) }) { list.append(tmp.hasSuffix("/") ? tmp : tmp + "/") }
        return list
    }

    /// The line as a notebook records it: unchanged when nothing in it is volatile (and it cannot be read as
    /// a pattern), else a ` (re)` pattern that accepts any value of each volatile figure and the rest as it is.
    public static func record(_ line: String) -> String {
        var pieces: [(text: String, pattern: String?)] = [(line, nil)]
        for rule in rules {
            var next: [(text: String, pattern: String?)] = []
            for piece in pieces {
                guard piece.pattern == nil else { next.append(piece); continue }
                let text = piece.text
                var cursor = text.startIndex
                for m in rule.find.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    guard let r = Range(m.range, in: text), !r.isEmpty else { continue }
                    if cursor < r.lowerBound { next.append((String(text[cursor..<r.lowerBound]), nil)) }
                    next.append((String(text[r]), rule.pattern(String(text[r]))))
                    cursor = r.upperBound
                }
                if cursor < text.endIndex { next.append((String(text[cursor...]), nil)) }
            }
            pieces = next
        }
        let volatile = pieces.contains { $0.pattern != nil }
        let readAsPattern = line == OutputMatch.ellipsis || line.hasSuffix(" (re)") || line.hasSuffix(" (glob)")
        guard volatile || readAsPattern else { return line }
        return pieces.map { $0.pattern ?? escape($0.text) }.joined() + " (re)"
    }

    /// `text` as a regular expression that matches it literally (only the characters ICU reads as syntax
    /// are escaped, so the recorded line stays readable).
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if #"\^$.|?*+()[]{}"#.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// `record` for each line.
    public static func record(_ lines: [String]) -> [String] { lines.map(record) }

    /// Recorded lines updated to a new run's: a recorded line (pattern or literal) that accepts its
    /// counterpart is kept as it is, so patterns stay patterns; new or changed lines are recorded afresh.
    public static func update(recorded: [String], actual: [String]) -> [String] {
        if OutputMatch.matches(expected: recorded, actual: actual) { return recorded }
        return OutputMatch.diff(expected: recorded, actual: actual).compactMap { line in
            switch line {
            case .same(let kept): return kept
            case .added(let new): return record(new)
            case .removed: return nil
            }
        }
    }
}
