import Datasets
import Foundation
import Kernels
import Language
import NotebookFormat
import Support
import Tokenizers
import Training

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
