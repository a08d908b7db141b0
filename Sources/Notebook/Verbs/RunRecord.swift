import Datasets
import Foundation
import Kernels
import Language
import NotebookFormat
import Support
import Tokenizers
import Training
import Weights

// What a training run records about where it came from (training_run.json).

/// Where a run comes from, for its `training_run.json`: the model's files and the data files with their SHA-256 and
/// size, the rows (as indices of the data file), how they were tokenized, and the held-out rows.
func runRecord(_ model: ModelObject, _ tokens: TokenizedDatasetObject, _ held: TokenizedDatasetObject?,
               _ session: Session) throws -> [String: Any?] {
    func file(_ url: URL) throws -> [String: Any?] {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        if let size, size > 500_000_000 {   // about 3 s per GB, once per process: say why the wait
            session.output.writeUnrecorded("recording the SHA-256 of \(session.displayPath(url)) (\(decimalBytes(size))) for training_run.json\n")
        }
        return ["path": session.displayPath(url), "bytes": size, "sha256": try SHA256.hex(fileAt: url)]
    }
    func rows(_ t: TokenizedDatasetObject) throws -> [String: Any?] {
        var d: [String: Any?] = ["name": t.dataName, "files": try t.dataFiles.map { try file(session.resolvePath($0)) as Any? },
                                 "rows": rowRanges(t.sourceRows), "row_count": t.examples.count,
                                 "mode": t.mode, "max_length": t.maxLength, "pad_token_id": t.padTokenId,
                                 "answer_format": t.answerFormat, "truncated_rows": t.truncatedRows]
        if let chat = t.recipe?.chat { d["template"] = chat.name }
        return d
    }
    var modelFiles: [URL] = []
    if let f = model.files {
        modelFiles = f.weightFiles + [f.configFile, f.safetensorsIndex].compactMap { $0 }
            + f.tokenizerFiles.sorted { $0.key < $1.key }.map(\.value)
    }
    var record: [String: Any?] = [
        "model": ["name": model.source, "storage": model.base.weights.storageDescription,
                  "files": try modelFiles.map { try file($0) as Any? }] as [String: Any?],
        "data": try rows(tokens),
    ]
    if let held { record["eval_data"] = try rows(held) }
    return record
}

/// Row indices as ranges: [0, 1, 2, 5, 6] → "0-2, 5-6".
func rowRanges(_ rows: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    while i < rows.count {
        var j = i
        while j + 1 < rows.count && rows[j + 1] == rows[j] + 1 { j += 1 }
        parts.append(i == j ? "\(rows[i])" : "\(rows[i])-\(rows[j])")
        i = j + 1
    }
    return parts.joined(separator: ", ")
}

/// A JSON record that a training run left beside its adapter (medrepl's `training_run.json`, train.py's `run.json`),
/// as `load_adapter` reads it: nil when `folder` has no `name`; `.unreadable` when the file is not a JSON object,
/// which `load_adapter` says without stopping (the adapter itself loaded).
enum AdapterRecord {
    case object([String: Any])
    case unreadable

    /// What `load_adapter` prints for a record it cannot read, after the file's name.
    static let unreadableSummary = "could not be read as JSON (the adapter itself loaded)"

    init?(_ name: String, in folder: URL) {
        let url = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        self = (try? JSONFile.readObject(url)).map { .object($0) } ?? .unreadable
    }
}

/// One line about how the adapter in `folder` was trained, from the `training_run.json` medrepl writes beside it:
/// "2 steps on 8 rows of medqa_small.json (mode notebook, max_length 64), base smollm2 in f32". `load_adapter` prints
/// it, so a notebook replayed onto another run's adapter shows why its answers differ. nil without the file.
func trainedSummary(folder: URL) -> String? {
    guard let record = AdapterRecord(Trainer.runFileName, in: folder) else { return nil }
    guard case .object(let run) = record else { return AdapterRecord.unreadableSummary }
    let data = run["data"] as? [String: Any] ?? [:], model = run["model"] as? [String: Any] ?? [:]
    var line = "\(run["global_step"] as? Int ?? 0) steps"
    if let rows = data["row_count"] as? Int { line += " on \(formatCount(rows)) rows" + ((data["name"] as? String).map { " of \($0)" } ?? "") }
    let how = [(data["mode"] as? String).map { "mode \($0)" }, (data["max_length"] as? Int).map { "max_length \($0)" }].compactMap { $0 }
    if !how.isEmpty { line += " (" + how.joined(separator: ", ") + ")" }
    if let name = model["name"] as? String { line += ", base \(name)" + ((model["storage"] as? String).map { " in \($0)" } ?? "") }
    return line
}
