import Foundation
import Language

/// Tab completion, worked out from the registry and the session; the libedit glue only asks it.
///
/// It completes verbs at the start of a statement, `key=` options of the verb being typed, the
/// values an option takes (object names of the right type, fixed words, file paths), live names,
/// and fields of live objects (`trainer.ar` -> `trainer.args`).
///
/// ```swift
/// let c = Completer(session: session)
/// c.complete(line: "sh")             // (start: 0, candidates: ["show"])
/// c.complete(line: "check x to")     // candidates: ["tol="]
/// ```
public struct Completer {
    public let session: Session

    public init(session: Session) { self.session = session }

    /// Characters that end the word being completed.
    public static let wordBreaks: Set<Character> = [" ", "\t", "\n", "\"", "'", "[", "]", ",", ";"]

    /// Candidates for the word that ends at the end of `line`; each replaces `line[start...]` whole.
    public func complete(line: String) -> (start: Int, candidates: [String]) {
        let chars = Array(line)
        var start = chars.count
        while start > 0, !Completer.wordBreaks.contains(chars[start - 1]) { start -= 1 }
        let word = String(chars[start...])
        // The statement so far: the words before this one, since the last `;` or newline.
        let before = String(chars[..<start])
        let statementText = before.split(separator: ";", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        var words = statementText.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if words.count >= 2, words[1] == "=" { words.removeFirst(2) }        // `name = verb ...`
        else if words.count == 1, words[0].hasSuffix("=") { words.removeFirst() }   // `name= verb`
        if words.first == "let" { words.removeFirst() }
        return (start, candidates(for: word, after: words).sorted())
    }

    func candidates(for word: String, after words: [String]) -> [String] {
        if word.contains("."), !word.contains("/"), let fields = fieldCandidates(word) { return fields }
        guard let verbName = words.first else {
            // The start of a statement: a verb, or a name to show.
            return (Array(session.registry.verbNames) + session.names).filter { $0.hasPrefix(word) }
        }
        guard let verb = session.registry.verb(named: verbName) else { return pathCandidates(word, extensions: []) }
        if let eq = word.firstIndex(of: "=") {
            let key = String(word[..<eq])
            let prefix = String(word[word.index(after: eq)...])
            guard let p = verb.allParameters.first(where: { $0.name == key }) else { return [] }
            return values(for: p, prefix: prefix).map { key + "=" + $0 }
        }
        let argumentsSoFar = words.dropFirst()
        func key(_ argument: String) -> String? {
            guard let eq = argument.firstIndex(of: "="), Parser.isName(String(argument[..<eq])) else { return nil }
            return String(argument[..<eq])
        }
        let givenKeys = Set(argumentsSoFar.compactMap(key))
        let positionalCount = argumentsSoFar.filter { key($0) == nil }.count
        var out = verb.keywords.filter { !givenKeys.contains($0.name) }.map { $0.name + "=" }.filter { $0.hasPrefix(word) }
        let next: Parameter? = positionalCount < verb.positional.count ? verb.positional[positionalCount] : verb.rest
        if let next, !givenKeys.contains(next.name) {
            out += values(for: next, prefix: word)
        }
        return out
    }

    /// What may fill a parameter, by its completion kind.
    func values(for parameter: Parameter, prefix: String) -> [String] {
        switch parameter.completion {
        case .none: return []
        case .path(let extensions): return pathCandidates(prefix, extensions: extensions)
        case .namesOrPath(let names, let extensions):
            return names.filter { $0.hasPrefix(prefix) } + pathCandidates(prefix, extensions: extensions)
        case .objects(let type):
            let names = session.objectNames(ofType: type)
            return (type.isEmpty ? session.names : names).filter { $0.hasPrefix(prefix) }
        case .values(let words): return words.filter { $0.hasPrefix(prefix) }
        case .verbs: return session.registry.verbNames.filter { $0.hasPrefix(prefix) }
        }
    }

    /// `trainer.ar` -> `trainer.args`, following fields of live objects.
    func fieldCandidates(_ word: String) -> [String]? {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard var value = session.value(named: parts[0]) else { return nil }
        for name in parts.dropFirst().dropLast() {
            guard case .object(let o) = value, let v = o.field(name) else { return [] }
            value = v
        }
        guard case .object(let o) = value else { return [] }
        let base = parts.dropLast().joined(separator: ".") + "."
        return o.fieldNames.filter { $0.hasPrefix(parts.last!) }.map { base + $0 }
    }

    /// Whether a completed word may go on with more than a space: a folder (`models/`), a key (`r=`), a
    /// field path (`trainer.`) or a live object, whose fields follow a `.` (`model` -> `model.config`).
    public func continues(_ candidate: String) -> Bool {
        if candidate.hasSuffix("=") || candidate.hasSuffix("/") || candidate.hasSuffix(".") { return true }
        if case .object? = session.value(named: candidate) { return true }
        if candidate.contains("."), !candidate.contains("/"), let fields = fieldCandidates(candidate + "."), !fields.isEmpty { return true }
        return false
    }

    /// Files and folders starting with `prefix`; folders end with `/`.
    func pathCandidates(_ prefix: String, extensions: [String]) -> [String] {
        var expanded = prefix
        let home = session.environment["HOME"] ?? NSHomeDirectory()
        if prefix.hasPrefix("~/") { expanded = home + prefix.dropFirst() }
        let slash = expanded.lastIndex(of: "/")
        let dirPart = slash.map { String(expanded[...$0]) } ?? ""
        let namePart = slash.map { String(expanded[expanded.index(after: $0)...]) } ?? expanded
        let dirURL = dirPart.hasPrefix("/") ? URL(fileURLWithPath: dirPart) : session.directory.appendingPathComponent(dirPart)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dirURL.path) else { return [] }
        let shownDir = prefix.lastIndex(of: "/").map { String(prefix[...$0]) } ?? ""   // as typed, `~` kept
        var out: [String] = []
        for name in entries where name.hasPrefix(namePart) && (!name.hasPrefix(".") || namePart.hasPrefix(".")) {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dirURL.appendingPathComponent(name).path, isDirectory: &isDir)
            if isDir.boolValue {
                out.append(shownDir + name + "/")
            } else if extensions.isEmpty || extensions.contains((name as NSString).pathExtension) {
                out.append(shownDir + name)
            }
        }
        return out
    }
}
