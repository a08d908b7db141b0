import Foundation
import Support

/// The Hugging Face access token: from `HF_TOKEN`, else the file huggingface_hub stores
/// (`$HF_HOME/token`, else `~/.cache/huggingface/token`). Its text never appears in any output:
/// `description` only says whether one is set and how long it is.
///
/// ```swift
/// if let token = HubToken.resolve() { request.setValue("Bearer \(token.value)", forHTTPHeaderField: "Authorization") }
/// try HubToken.store("hf_...")             // mode 0600, written atomically
/// print(HubToken.resolve()!)               // "token set (37 characters, from HF_TOKEN)"
/// ```
public struct HubToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Send it; never print it.
    public let value: String
    /// Where it came from (`HF_TOKEN` or a file path), for messages.
    public let origin: String

    public init(value: String, origin: String) {
        self.value = value
        self.origin = origin
    }

    /// Says that a token is set, its length and origin; never any part of it.
    public var redacted: String { "token set (\(value.count) characters, from \(origin))" }
    public var description: String { redacted }
    public var debugDescription: String { description }
    /// `dump(token)` and debuggers see the redacted text only.
    public var customMirror: Mirror { Mirror(self, children: ["redacted": redacted]) }

    /// Where huggingface_hub keeps the token: `$HF_HOME/token`, else `~/.cache/huggingface/token`.
    public static func storedTokenURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["HF_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: (home as NSString).expandingTildeInPath).appendingPathComponent("token")
        }
        return homeDirectory(environment).appendingPathComponent(".cache/huggingface/token")
    }

    /// `HF_TOKEN` when set and non-empty, else the stored token file's first line, else nil.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) -> HubToken? {
        if let v = environment["HF_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty {
            return HubToken(value: v, origin: "HF_TOKEN")
        }
        let url = storedTokenURL(environment: environment)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        let v = text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        return v.isEmpty ? nil : HubToken(value: v, origin: url.path)
    }

    /// Stores `token` where huggingface_hub looks for it, readable by the owner only (0600), atomically.
    /// Returns the file written. Throws when the token is empty or contains whitespace.
    @discardableResult
    public static func store(_ token: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let url = storedTokenURL(environment: environment)
        let clean = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !clean.isEmpty, !clean.contains(where: { $0.isWhitespace }) else {
            throw WeightsError(file: url.path, field: "token", "refusing to store an empty token or one containing spaces")
        }
        try FileSystemError.attempt("cannot create the folder", path: url.deletingLastPathComponent().path) {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        try AtomicFile.write(Data(clean.utf8), to: url, permissions: 0o600)
        return url
    }

    static func homeDirectory(_ environment: [String: String]) -> URL {
        if let home = environment["HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        return FileManager.default.homeDirectoryForCurrentUser
    }
}
