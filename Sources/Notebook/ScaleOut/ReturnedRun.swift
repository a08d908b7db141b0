import Foundation
import Weights

/// The `run.json` an exported train.py writes beside the adapter it trained (on GPUs, elsewhere): `load_adapter`
/// says where and how the adapter was trained, and `show MODEL` keeps showing it while that adapter is on.
///
/// ```swift
/// ReturnedRun(folder: URL(fileURLWithPath: "outputs/medical-lora-gpu/output"))?.summary
/// // "trained by train.py (exported from notebooks/finetune.mednb): 2 processes on cpu (x86_64), 10 steps, last loss 2.0731, ..."
/// ```
struct ReturnedRun {
    static let fileName = "run.json"
    /// One line for load_adapter and show.
    let summary: String
    /// How its rows were tokenized and their answers written (`notebook` or `default`; `bare`, `sentence`), when said.
    var mode: String?, answerFormat: String?

    /// nil when the folder has no run.json (an adapter saved by medrepl or by peft itself); a run.json that cannot
    /// be read is said in the summary rather than stopping the load (the adapter itself is fine).
    init?(folder: URL) {
        guard let record = AdapterRecord(Self.fileName, in: folder) else { return nil }
        guard case .object(let run) = record else {
            summary = AdapterRecord.unreadableSummary
            return
        }
        func text(_ v: Any?) -> String? { v.map { "\($0)" } }
        let formatting = run["formatting"] as? [String: Any] ?? [:]
        mode = formatting["mode"] as? String
        answerFormat = formatting["answer_format"] as? String
        let versions = run["versions"] as? [String: Any] ?? [:]
        let processes = run["world_size"] as? Int ?? 1
        let losses = (run["log_history"] as? [[String: Any]] ?? []).compactMap { $0["loss"] as? Double }
        var parts = ["\(processes) process\(processes == 1 ? "" : "es") on \(text(run["device"]) ?? "an unknown device")"]
        if let steps = run["global_step"] as? Int { parts.append("\(steps) steps") }
        if let last = losses.last { parts.append(String(format: "last logged loss %.4f", last)) }
        if let seconds = run["runtime_seconds"] as? Double { parts.append(String(format: "%.0f s", seconds)) }
        let stack = ["torch", "transformers", "peft"].compactMap { name in text(versions[name]).map { "\(name) \($0)" } }
        if !stack.isEmpty { parts.append(stack.joined(separator: ", ")) }
        summary = "trained by train.py (exported from \(text(run["exported_from"]) ?? "medrepl")): " + parts.joined(separator: ", ")
    }
}
