/// Closest-name suggestions for typos, by edit distance: verb and option names in the shell
/// (the language's `Suggest` forwards here) and file names beside a mistyped path (`ResourceName` in Weights).
///
/// ```swift
/// NameSuggestion.closest(to: "lod_model", in: ["load_model", "ask"])   // "load_model"
/// ```
public enum NameSuggestion {
    /// Levenshtein distance between two strings, ignoring case.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let substitution: Int = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                let insertion: Int = cur[j - 1] + 1
                let deletion: Int = prev[j] + 1
                cur[j] = Swift.min(substitution, insertion, deletion)
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        var best: (name: String, distance: Int)? = nil
        for candidate in candidates.sorted() {
            let d: Int = distance(word, candidate)
            if best == nil || d < best!.distance { best = (candidate, d) }
        }
        guard let best else { return nil }
        // Short words are close to everything: demand more of them.
        let limit = word.count <= 3 ? 1 : Swift.max(2, word.count / 3)
        if best.distance <= limit && best.distance < word.count { return best.name }
        // A prefix or substring match ("learning" for "learning_rate") is a good suggestion too.
        return candidates.first { $0.hasPrefix(word) && word.count >= 3 }
    }
}
