import Foundation
import Support

/// What a model, dataset or adapter name the user typed stands for: a local path or a Hugging Face id.
/// The one rule every verb that resolves such names uses (`ModelLocator.resolve`, `QADataset.load(source:)`).
///
/// - an existing file or folder is a path;
/// - a name that starts with `.`, `/` or `~`, ends in `.gguf`, `.safetensors`, `.json` or `.jsonl`, or
///   whose first path component exists locally (`models/nope.gguf` beside a `models/` folder) is a path;
/// - `ORG/NAME` or `ORG/NAME@revision` is a hub id;
/// - anything else is a path (that does not exist).
///
/// ```swift
/// let here = URL(fileURLWithPath: "/work")
/// ResourceName.classify("models/nope.gguf", directory: here)            // .path(/work/models/nope.gguf)
/// ResourceName.classify("HuggingFaceTB/SmolLM2-135M", directory: here)  // .hub(repo: ..., revision: "main")
/// ```
public enum ResourceName: Equatable, Sendable {
    case path(URL)
    case hub(repo: String, revision: String)

    /// File endings that make a name a path, never a hub id.
    public static let pathExtensions = ["gguf", "safetensors", "json", "jsonl"]

    /// Classifies `name`; relative paths are resolved against `directory`, `~` against `home`.
    public static func classify(_ name: String, directory: URL,
                                home: URL = URL(fileURLWithPath: NSHomeDirectory())) -> ResourceName {
        let url = resolve(name, directory: directory, home: home)
        if FileManager.default.fileExists(atPath: url.path) || looksLikePath(name) { return .path(url) }
        if let first = name.split(separator: "/").first, name.contains("/"),
           FileManager.default.fileExists(atPath: directory.appendingPathComponent(String(first)).path) {
            return .path(url)
        }
        if let (repo, revision) = hubID(name) { return .hub(repo: repo, revision: revision) }
        return .path(url)
    }

    /// True for a name whose spelling alone makes it a path: it starts with `.`, `/` or `~`, or ends
    /// in one of ``pathExtensions``.
    public static func looksLikePath(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("/") || name.hasPrefix("~") { return true }
        let ext = (name as NSString).pathExtension.lowercased()
        return pathExtensions.contains(ext)
    }

    /// `ORG/NAME` or `ORG/NAME@revision` → (repo, revision); nil for anything else.
    public static func hubID(_ s: String) -> (repo: String, revision: String)? {
        var repo = s, revision = "main"
        if let at = s.firstIndex(of: "@") {
            repo = String(s[..<at])
            revision = String(s[s.index(after: at)...])
        }
        let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard parts.count == 2, !revision.isEmpty,
              parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && $0.unicodeScalars.allSatisfy(allowed.contains) }) else {
            return nil
        }
        return (repo, revision)
    }

    /// `name` as a file URL: `~` expanded, relative names under `directory`.
    public static func resolve(_ name: String, directory: URL, home: URL = URL(fileURLWithPath: NSHomeDirectory())) -> URL {
        var expanded = name
        if name == "~" || name.hasPrefix("~/") { expanded = home.path + name.dropFirst() }
        return (expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
                                        : directory.appendingPathComponent(expanded)).standardizedFileURL
    }

    /// The message for a path that does not exist: "no such file or folder", with the closest
    /// existing name beside it as the user would type it ("did you mean 'models/SmolLM2….gguf'?").
    public static func missingMessage(_ name: String, at url: URL) -> String {
        guard let near = closestExisting(name, at: url) else { return "no such file or folder" }
        return "no such file or folder; did you mean '\(near)'?"
    }

    /// The closest existing name in the folder `url` would be in, spelled with `name`'s folder part.
    public static func closestExisting(_ name: String, at url: URL) -> String? {
        let folder = url.deletingLastPathComponent()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        guard let near = NameSuggestion.closest(to: url.lastPathComponent, in: entries.filter { !$0.hasPrefix(".") }) else { return nil }
        let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
        guard let slash = trimmed.lastIndex(of: "/") else { return near }
        return String(trimmed[...slash]) + near
    }
}
