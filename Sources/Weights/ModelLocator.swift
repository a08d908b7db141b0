import Foundation

/// The files of one model, found by `ModelLocator`.
///
/// ```swift
/// let files = try ModelLocator().resolve("HuggingFaceTB/SmolLM2-135M-Instruct")
/// let source = try files.tensorSource()       // safetensors checkpoint or GGUF, Hugging Face names
/// print(files.format, files.configFile?.path ?? "-")
/// ```
public struct ModelFiles: Sendable, Equatable {
    public enum Format: String, Sendable { case safetensors, gguf }

    /// The name the user gave.
    public var name: String
    public var format: Format
    /// The folder holding the model's files (for a `.gguf`, the folder it is in).
    public var directory: URL
    /// The `.gguf` file (GGUF format only).
    public var ggufFile: URL?
    /// `config.json` (safetensors format; nil for GGUF, whose metadata holds the configuration).
    public var configFile: URL?
    /// `generation_config.json`, when present.
    public var generationConfigFile: URL?
    /// `model.safetensors.index.json`, when the checkpoint is sharded.
    public var safetensorsIndex: URL?
    /// The weight files: the `.safetensors` files, or the single `.gguf`.
    public var weightFiles: [URL]
    /// Tokenizer files present beside the model, by name: `tokenizer.json`, `tokenizer_config.json`,
    /// `tokenizer.model`, `special_tokens_map.json`.
    public var tokenizerFiles: [String: URL]

    /// Where the model's own tokenizer is read: the `.gguf` file (its vocabulary), else the folder.
    public var tokenizerLocation: URL { ggufFile ?? directory }

    /// Opens the weights as a `TensorSource` with Hugging Face names.
    public func tensorSource() throws -> TensorSource {
        switch format {
        case .gguf: return try GGUFLlamaTensorSource(file: GGUFFile(url: ggufFile!))
        case .safetensors:
            if let safetensorsIndex { return try SafetensorsCheckpoint(index: safetensorsIndex) }
            return weightFiles.count == 1 ? try SafetensorsCheckpoint(file: weightFiles[0]) : try SafetensorsCheckpoint(files: weightFiles)
        }
    }
}

/// Resolves a model name to its files. Accepted names, tried in this order:
/// - `smollm2`: the default model, `SmolLM2-135M-Instruct*.gguf` searched in `$MEDREPL_MODEL_DIR`, `./models/`,
///   `<folder of the executable>/../../models/` (and `models/` beside the `.build` folder the executable is in)
///   and `~/.cache/medrepl/models/`;
/// - a path (``ResourceName``'s rule: a name that exists, starts with `.`, `/` or `~`, ends in `.gguf`/`.safetensors`,
///   or whose first folder exists, is never taken for a hub id): a model folder (`config.json` with safetensors weights, or a folder holding one `.gguf`),
///   a `.gguf` file, or a `.safetensors` file (with `config.json` beside it);
/// - a Hugging Face id `ORG/NAME` (optionally `ORG/NAME@revision`): looked up in the hub cache
///   (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`), downloaded into it when
///   missing unless `HF_HUB_OFFLINE=1`, from `${HF_ENDPOINT:-https://huggingface.co}` with `HF_TOKEN`.
///
/// ```swift
/// let locator = ModelLocator()                          // the process environment
/// let smol = try locator.resolve("smollm2")             // .gguf
/// let tiny = try locator.resolve("TinyLlama/TinyLlama-1.1B-Chat-v1.0")
/// ```
public struct ModelLocator: Sendable {
    public var environment: [String: String]
    /// The folder `./models/` is relative to.
    public var currentDirectory: URL
    /// The running executable, for `<folder of the executable>/../../models/` (`.build/release/medrepl`).
    public var executable: URL?
    /// Draw download progress bars.
    public var showProgress = true

    /// The default model's short name and file name prefix.
    public static let defaultName = "smollm2"
    public static let defaultFilePrefix = "SmolLM2-135M-Instruct"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                executable: URL? = Bundle.main.executableURL) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.executable = executable
    }

    /// The hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public var hubCache: URL {
        if let c = environment["HF_HUB_CACHE"], !c.isEmpty { return URL(fileURLWithPath: expand(c)) }
        if let h = environment["HF_HOME"], !h.isEmpty { return URL(fileURLWithPath: expand(h)).appendingPathComponent("hub") }
        return HubToken.homeDirectory(environment).appendingPathComponent(".cache/huggingface/hub")
    }

    /// `${HF_ENDPOINT:-https://huggingface.co}`.
    public var endpoint: URL {
        if let e = environment["HF_ENDPOINT"], !e.isEmpty, let url = URL(string: e.hasSuffix("/") ? String(e.dropLast()) : e) { return url }
        return URL(string: "https://huggingface.co")!
    }

    /// `HF_HUB_OFFLINE` set to 1/true/yes/on.
    public var offline: Bool {
        ["1", "true", "yes", "on"].contains((environment["HF_HUB_OFFLINE"] ?? "").lowercased())
    }

    /// The folders searched for the default model, in order.
    public var defaultModelFolders: [URL] {
        var dirs: [URL] = []
        if let d = environment["MEDREPL_MODEL_DIR"], !d.isEmpty { dirs.append(URL(fileURLWithPath: expand(d))) }
        dirs.append(currentDirectory.appendingPathComponent("models"))
        if let exe = executable {
            dirs.append(exe.deletingLastPathComponent().appendingPathComponent("../../models").standardizedFileURL)
            // `.build/release` is a link to `.build/<triple>/release`, and the running path is the resolved one:
            // also try the folder beside `.build`.
            let parts = exe.standardizedFileURL.pathComponents
            if let build = parts.lastIndex(of: ".build"), build > 0 {
                let checkout = URL(fileURLWithPath: NSString.path(withComponents: Array(parts[..<build])))
                let beside = checkout.appendingPathComponent("models")
                if !dirs.contains(beside) { dirs.append(beside) }
            }
        }
        dirs.append(HubToken.homeDirectory(environment).appendingPathComponent(".cache/medrepl/models"))
        return dirs
    }

    /// Resolves `name`; see the type's documentation for the forms accepted.
    public func resolve(_ name: String) throws -> ModelFiles {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw WeightsError(file: "model", "no model name given") }
        if trimmed.lowercased() == Self.defaultName { return try resolveDefault(name: trimmed) }

        switch ResourceName.classify(trimmed, directory: currentDirectory, home: HubToken.homeDirectory(environment)) {
        case .hub(let repo, let revision):
            return try hub(repo: repo, revision: revision, name: trimmed)
        case .path(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
                let neither = !ResourceName.looksLikePath(trimmed) && ResourceName.hubID(trimmed) == nil
                throw WeightsError(file: trimmed, ResourceName.missingMessage(trimmed, at: path)
                                   + (neither ? ", and not a Hugging Face id (ORG/NAME) nor \"\(Self.defaultName)\"" : ""))
            }
            return isDirectory.boolValue ? try folder(path, name: trimmed) : try file(path, name: trimmed)
        }
    }

    /// `ORG/NAME` or `ORG/NAME@revision` → (repo, revision); nil for anything else (``ResourceName/hubID(_:)``).
    public static func hubID(_ s: String) -> (repo: String, revision: String)? { ResourceName.hubID(s) }

    // MARK: forms

    func resolveDefault(name: String) throws -> ModelFiles {
        let fm = FileManager.default
        for dir in defaultModelFolders {
            let candidates = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? [])
                .filter { $0.hasPrefix(Self.defaultFilePrefix) && $0.hasSuffix(".gguf") }
                .sorted()
            // Prefer the Q4_1 file the set-up unpacks when several quantizations lie side by side.
            if let pick = candidates.first(where: { $0.contains("Q4_1") }) ?? candidates.first {
                return try file(dir.appendingPathComponent(pick), name: name)
            }
        }
        let searched = defaultModelFolders.map(\.path).joined(separator: ", ")
        throw WeightsError(file: name, "\(Self.defaultFilePrefix)*.gguf not found in \(searched): run the set-up script (scripts/install.sh) or set MEDREPL_MODEL_DIR to the folder holding it")
    }

    func file(_ url: URL, name: String) throws -> ModelFiles {
        let dir = url.deletingLastPathComponent()
        switch url.pathExtension.lowercased() {
        case "gguf":
            return ModelFiles(name: name, format: .gguf, directory: dir, ggufFile: url, configFile: nil,
                              generationConfigFile: existing(dir, "generation_config.json"), safetensorsIndex: nil,
                              weightFiles: [url], tokenizerFiles: tokenizerFiles(dir))
        case "safetensors":
            guard let config = existing(dir, "config.json") else {
                throw WeightsError(file: url.path, "no config.json beside the weights: give the model folder with its config.json")
            }
            return ModelFiles(name: name, format: .safetensors, directory: dir, ggufFile: nil, configFile: config,
                              generationConfigFile: existing(dir, "generation_config.json"), safetensorsIndex: nil,
                              weightFiles: [url], tokenizerFiles: tokenizerFiles(dir))
        default:
            throw WeightsError(file: url.path, "not a model: expected a folder, a .gguf or a .safetensors file")
        }
    }

    func folder(_ dir: URL, name: String) throws -> ModelFiles {
        let fm = FileManager.default
        let entries = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        let config = existing(dir, "config.json")
        let safetensors = entries.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }
        if let config, !safetensors.isEmpty || existing(dir, SafetensorsCheckpoint.indexName) != nil {
            let index = existing(dir, SafetensorsCheckpoint.indexName)
            let weights: [URL]
            if index == nil, safetensors.contains("model.safetensors") {
                weights = [dir.appendingPathComponent("model.safetensors")]
            } else {
                // Adapters in the same folder are not weights of the model.
                weights = safetensors.filter { !$0.hasPrefix("adapter_") }.map { dir.appendingPathComponent($0) }
            }
            return ModelFiles(name: name, format: .safetensors, directory: dir, ggufFile: nil, configFile: config,
                              generationConfigFile: existing(dir, "generation_config.json"), safetensorsIndex: index,
                              weightFiles: weights, tokenizerFiles: tokenizerFiles(dir))
        }
        let ggufs = entries.filter { $0.lowercased().hasSuffix(".gguf") }
        if ggufs.count == 1 { return try file(dir.appendingPathComponent(ggufs[0]), name: name) }
        if ggufs.count > 1 {
            throw WeightsError(file: dir.path, "several .gguf files (\(ggufs.joined(separator: ", "))): name the one to load")
        }
        if config == nil, !safetensors.isEmpty {
            throw WeightsError(file: dir.path, field: "config.json", "missing: the folder has weights but no config.json")
        }
        if config != nil {
            throw WeightsError(file: dir.path, "config.json but no model.safetensors, \(SafetensorsCheckpoint.indexName) or .gguf file")
        }
        throw WeightsError(file: dir.path, "not a model folder: no config.json with safetensors weights, and no .gguf file")
    }

    func hub(repo: String, revision: String, name: String) throws -> ModelFiles {
        if let snapshot = cachedSnapshot(repo: repo, revision: revision), let files = try? folder(snapshot, name: name) {
            return files
        }
        if offline {
            throw WeightsError(file: name, "not in the Hugging Face cache (\(hubCache.path)) and HF_HUB_OFFLINE=1 forbids downloading: unset HF_HUB_OFFLINE and run again to download it, or fetch it elsewhere with `huggingface-cli download \(repo)` and copy \(HubDownloader.repoFolder(repo, cache: hubCache).lastPathComponent) into the cache, or give a local folder or .gguf path")
        }
        let downloader = HubDownloader(endpoint: endpoint, token: HubToken.resolve(environment: environment), cache: hubCache)
        downloader.showProgress = showProgress
        let snapshot = try downloader.download(repo: repo, revision: revision)
        return try folder(snapshot, name: name)
    }

    /// The snapshot folder of `repo` at `revision` in the hub cache, when there is one.
    public func cachedSnapshot(repo: String, revision: String = "main") -> URL? {
        let base = HubDownloader.repoFolder(repo, cache: hubCache)
        let snapshots = base.appendingPathComponent("snapshots")
        var commit = revision
        if let ref = try? String(contentsOf: base.appendingPathComponent("refs").appendingPathComponent(revision), encoding: .utf8) {
            commit = ref.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let dir = snapshots.appendingPathComponent(commit)
        return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
    }

    // MARK: helpers

    func existing(_ dir: URL, _ name: String) -> URL? {
        let url = dir.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    func tokenizerFiles(_ dir: URL) -> [String: URL] {
        var out: [String: URL] = [:]
        for n in ["tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json"] {
            if let u = existing(dir, n) { out[n] = u }
        }
        return out
    }

    func expand(_ path: String) -> String {
        if path == "~" || path.hasPrefix("~/") {
            return HubToken.homeDirectory(environment).path + path.dropFirst()
        }
        return path
    }
}
