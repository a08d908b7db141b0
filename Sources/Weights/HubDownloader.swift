import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Support

/// Downloads a model repository from the Hugging Face hub (or any server with the same
/// `{endpoint}/{repo}/resolve/{revision}/{file}` layout) into the hub cache.
///
/// Layout written: `models--ORG--NAME/refs/{revision}` holds the commit (the server's `X-Repo-Commit`
/// header, else the revision name), and the files are stored directly in
/// `models--ORG--NAME/snapshots/{commit}/` as plain files. huggingface_hub reads such a snapshot like its own;
/// medrepl does not write the content-addressed `blobs/` folder.
///
/// Files are fetched into a staging folder `snapshots/.download-{revision}/`, each first as
/// `{file}.incomplete`: an interrupted download resumes from the bytes already there with an HTTP `Range`
/// request, a file is renamed to its name only when complete, and the snapshot folder receives the files
/// only when the whole model is there (so a snapshot never holds half a model). A download that fails
/// before any byte arrived (a mistyped id, no network) removes the folders it created. `Authorization: Bearer …` is sent when a token is given (the token is never printed).
///
/// ```swift
/// let hub = HubDownloader(endpoint: URL(string: "https://huggingface.co")!, token: HubToken.resolve(),
///                         cache: URL(fileURLWithPath: "/home/me/.cache/huggingface/hub"))
/// let snapshot = try hub.download(repo: "HuggingFaceTB/SmolLM2-135M-Instruct")
/// ```
public final class HubDownloader: @unchecked Sendable {
    public let endpoint: URL
    public let token: HubToken?
    public let cache: URL
    /// Seconds without progress before a request fails.
    public var timeout: TimeInterval = 60
    /// Draw a progress bar per file (on standard error).
    public var showProgress = true

    /// Files fetched for every model; those marked optional may be missing from the repository.
    public static let configFiles: [(name: String, required: Bool)] = [
        ("config.json", true), ("generation_config.json", false),
        ("tokenizer.json", false), ("tokenizer_config.json", false),
        ("special_tokens_map.json", false), ("tokenizer.model", false),
    ]

    public init(endpoint: URL, token: HubToken?, cache: URL) {
        self.endpoint = endpoint
        self.token = token
        self.cache = cache
    }

    /// The cache folder of a repository: `models--ORG--NAME`.
    public static func repoFolder(_ repo: String, cache: URL) -> URL {
        cache.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
    }

    /// Downloads the configuration, tokenizer files and weights (a single `model.safetensors`, or the
    /// index and its shards) of `repo` at `revision`; files already in the snapshot are kept.
    /// Returns the snapshot folder.
    public func download(repo: String, revision: String = "main") throws -> URL {
        let folder = Self.repoFolder(repo, cache: cache)
        let staging = folder.appendingPathComponent("snapshots").appendingPathComponent(".download-" + safeName(revision))
        // The folders this call creates: a failed download that fetched nothing removes them again.
        var created: [URL] = []
        var level = staging
        while !FileManager.default.fileExists(atPath: level.path) && level.path != "/" {
            created.append(level)
            level = level.deletingLastPathComponent()
        }
        do {
            return try download(repo: repo, revision: revision, folder: folder, staging: staging)
        } catch {
            if !Self.holdsData(staging) {
                try? FileManager.default.removeItem(at: staging)
                for dir in created where dir != staging { _ = rmdir(dir.path) }   // only if empty
            }
            throw error
        }
    }

    /// True when `folder` holds a file with bytes in it (a finished or partial download worth resuming).
    static func holdsData(_ folder: URL) -> Bool {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey]) else { return false }
        for case let url as URL in walker where ((try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) > 0 {
            return true
        }
        return false
    }

    func download(repo: String, revision: String, folder: URL, staging: URL) throws -> URL {
        try makeDirectory(staging)
        if showProgress {
            FileHandle.standardError.write(Data("downloading \(repo)@\(revision) from \(endpoint.absoluteString) into \(folder.path)\n".utf8))
        }

        // config.json first: it proves the repository exists and tells the commit, which is noted at once
        // (an interrupted run keeps its finished files here, so a later run may not see the header again).
        let commitFile = staging.appendingPathComponent(".commit")
        var commit = try? String(contentsOf: commitFile, encoding: .utf8)
        for (name, required) in Self.configFiles {
            let result = try fetch(repo: repo, revision: revision, file: name, into: staging)
            if case .notFound = result, required {
                throw WeightsError(file: "\(repo)@\(revision)", field: name,
                                   "not found at \(fileURL(repo, revision, name)): is the repository name right, and is it a model in Hugging Face format?")
            }
            if case .done(let c) = result, commit == nil, let c {
                commit = c
                try AtomicFile.write(Data(c.utf8), to: commitFile)
            }
        }
        if case .notFound = try fetch(repo: repo, revision: revision, file: "model.safetensors", into: staging) {
            let indexName = SafetensorsCheckpoint.indexName
            guard case .done = try fetch(repo: repo, revision: revision, file: indexName, into: staging) else {
                throw WeightsError(file: "\(repo)@\(revision)", field: "model.safetensors",
                                   "the repository has neither model.safetensors nor \(indexName) (only safetensors weights can be downloaded)")
            }
            for shard in try shardNames(staging.appendingPathComponent(indexName)) {
                guard case .done = try fetch(repo: repo, revision: revision, file: shard, into: staging) else {
                    throw WeightsError(file: "\(repo)@\(revision)", field: shard, "listed in \(indexName) but not found on the server")
                }
            }
        }

        // Put the finished files into snapshots/{commit} in one AtomicFolder write (linked, so a run killed
        // meanwhile still finds them staged) and point refs/{revision} at it.
        let rev = safeName(commit ?? revision)
        let snapshot = folder.appendingPathComponent("snapshots").appendingPathComponent(rev)
        let fm = FileManager.default
        try AtomicFolder.write(to: snapshot, what: "the snapshot folder") { dir in
            for name in (try? fm.contentsOfDirectory(atPath: staging.path)) ?? [] where !name.hasPrefix(".") && !name.hasSuffix(".incomplete") {
                let source = staging.appendingPathComponent(name), target = dir.appendingPathComponent(name)
                guard link(source.path, target.path) != 0 else { continue }
                try FileSystemError.attempt("cannot put the downloaded file into the snapshot", path: snapshot.appendingPathComponent(name).path) {
                    try fm.copyItem(at: source, to: target)
                }
            }
        }
        try? fm.removeItem(at: staging)
        let refs = folder.appendingPathComponent("refs")
        try makeDirectory(refs)
        try AtomicFile.write(Data(rev.utf8), to: refs.appendingPathComponent(safeName(revision)))
        return snapshot
    }

    /// The shard file names of a `model.safetensors.index.json`.
    func shardNames(_ index: URL) throws -> [String] {
        let object = try JSONFile.object(try JSONFile.read(index), file: index.lastPathComponent)
        guard let map = object["weight_map"] as? [String: Any] else {
            throw WeightsError(file: index.lastPathComponent, field: "weight_map", "missing or not an object of tensor → file")
        }
        let names = Set(map.values.compactMap { $0 as? String })
        for n in names where n.isEmpty || n.contains("/") || n.hasPrefix(".") {
            throw WeightsError(file: index.lastPathComponent, field: "weight_map", "shard name \"\(n)\" is not a plain file name")
        }
        return names.sorted()
    }

    public func fileURL(_ repo: String, _ revision: String, _ file: String) -> URL {
        endpoint.appendingPathComponent(repo).appendingPathComponent("resolve")
            .appendingPathComponent(revision).appendingPathComponent(file)
    }

    /// What one file's download came to.
    public enum FetchResult: Equatable {
        /// Complete on disk; the commit the server reported, if any.
        case done(commit: String?)
        case notFound
    }

    /// Fetches `file` into `folder/file` (resuming `folder/file.incomplete`); keeps a file already there.
    public func fetch(repo: String, revision: String, file: String, into folder: URL) throws -> FetchResult {
        let destination = folder.appendingPathComponent(file)
        if FileManager.default.fileExists(atPath: destination.path) { return .done(commit: nil) }
        let partial = folder.appendingPathComponent(file + ".incomplete")
        let url = fileURL(repo, revision, file)
        let transfer = HTTPTransfer(url: url, partial: partial, token: token, timeout: timeout,
                                    label: file, showProgress: showProgress)
        var outcome = try transfer.run()
        if outcome.status == 416 {
            // The partial is no prefix of what the server has (changed file, or already complete): start over.
            try? FileManager.default.removeItem(at: partial)
            outcome = try transfer.run()
        }
        switch outcome.status {
        case 200, 206:
            guard rename(partial.path, destination.path) == 0 else {
                throw FileSystemError("cannot rename the finished download into place", path: destination.path, errno: errno)
            }
            return .done(commit: outcome.commit)
        case 404:
            try? FileManager.default.removeItem(at: partial)
            return .notFound
        case 401, 403:
            try? FileManager.default.removeItem(at: partial)
            let how = token == nil
                ? "the repository is gated or private: accept its licence on the hub, then set HF_TOKEN or run `login`"
                : "the token (\(token!.description)) was refused: check it has read access and that you accepted the model's licence"
            throw WeightsError(file: url.absoluteString, "HTTP \(outcome.status) (access denied): \(how)")
        default:
            throw WeightsError(file: url.absoluteString, "HTTP \(outcome.status) from the server")
        }
    }

    func makeDirectory(_ url: URL) throws {
        try FileSystemError.attempt("cannot create the folder", path: url.path) {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
    }

    /// Revisions and commits become folder names: keep them to one safe path component.
    func safeName(_ s: String) -> String {
        let cleaned = s.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }
        let name = String(cleaned)
        return name.isEmpty || name.allSatisfy({ $0 == "." }) ? "_" : name
    }
}
