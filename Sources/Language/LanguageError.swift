import Foundation
import Support

/// Where a piece of source text came from, so errors can name the file, line and column.
///
/// A notebook cell is parsed with `firstLine` set to the cell's first line in the file and
/// `columnOffset` to the width of the `  $ ` prefix, so positions point into the notebook itself.
public struct SourceText: Sendable {
    /// The file name shown in messages ("<stdin>", "<command line>", "notebooks/finetune.mednb").
    public var file: String
    /// The text, one element per line (without newlines).
    public var lines: [String]
    /// The line number of `lines[0]` in `file` (1-based).
    public var firstLine: Int
    /// Columns to add to positions (the `  $ ` prefix of notebook command lines).
    public var columnOffset: Int

    public init(file: String, text: String, firstLine: Int = 1, columnOffset: Int = 0) {
        self.file = file
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        self.firstLine = firstLine
        self.columnOffset = columnOffset
    }
}

/// A position in source text: 1-based line and column within the parsed text, and a length for the caret.
public struct SourceRange: Sendable, Equatable {
    public var line: Int
    public var column: Int
    public var length: Int
    public init(line: Int, column: Int, length: Int) {
        self.line = line; self.column = column; self.length = max(length, 1)
    }
}

/// An error in a command: a syntax error, an unknown verb or option, a wrong type, or a verb that failed.
///
/// Its description is what the user sees:
/// ```text
/// <command line>:1:1: error: unknown verb 'lod_model'
///   lod_model "m.gguf"
///   ^~~~~~~~~
///   did you mean 'load_model'?
/// ```
public struct LanguageError: Error, CustomStringConvertible, LocalizedError {
    public enum Kind: String, Sendable {
        case syntax, unknownVerb, unknownOption, unknownName, type, runtime, assertion
    }
    public var kind: Kind
    public var message: String
    /// Where it happened; nil for errors with no source (a verb called from Swift).
    public var source: SourceText?
    public var range: SourceRange?
    /// A suggestion printed under the caret ("did you mean 'load_model'?").
    public var hint: String?

    public init(_ kind: Kind, _ message: String, source: SourceText? = nil, range: SourceRange? = nil, hint: String? = nil) {
        self.kind = kind; self.message = message; self.source = source; self.range = range; self.hint = hint
    }

    /// `file:line:column`, in the file's own numbering.
    public var locationText: String? {
        guard let s = source, let r = range else { return nil }
        return "\(s.file):\(s.firstLine + r.line - 1):\(s.columnOffset + r.column)"
    }

    public var description: String {
        var out = (locationText.map { $0 + ": " } ?? "") + "error: " + message
        if let s = source, let r = range, r.line >= 1, r.line <= s.lines.count {
            let text = s.lines[r.line - 1]
            let width = max(1, min(r.length, max(1, text.count - r.column + 1)))
            out += "\n  " + text
            out += "\n  " + String(repeating: " ", count: max(0, r.column - 1)) + "^" + String(repeating: "~", count: width - 1)
        }
        if let hint { out += "\n  " + hint }
        return out
    }

    public var errorDescription: String? { description }
}

/// Thrown by `Session.checkCancelled()` once the user pressed Ctrl-C: the running cell stops,
/// the session and its objects stay.
public struct CancelledError: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}

/// Closest-name suggestions for typos, by edit distance (the rule is `Support.NameSuggestion`'s, shared
/// with the file-name hints of model and dataset paths).
public enum Suggest {
    /// Levenshtein distance between two strings.
    public static func distance(_ a: String, _ b: String) -> Int { NameSuggestion.distance(a, b) }

    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        NameSuggestion.closest(to: word, in: candidates)
    }

    /// "did you mean 'x'?" or nil.
    public static func hint(for word: String, in candidates: [String]) -> String? {
        closest(to: word, in: candidates).map { "did you mean '\($0)'?" }
    }
}
