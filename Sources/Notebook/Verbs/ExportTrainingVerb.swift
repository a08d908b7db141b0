import Foundation
import Language
import Support

extension VerbGroup {
    /// `export_training TRAINER DIR`: the trainer's run as a transformers + peft + accelerate project (ScaleOut/).
    static var exportTrainingVerb: Verb {
        Verb("export_training", summary: "Write the trainer's run as a project for transformers' Trainer, peft and accelerate, to train on GPUs.",
             details: "DIR gets train.py, which does the notebook's work with the settings in run_config.json (the model, the data file "
                + "and its rows, the formatting, the tokenization, the LoRA settings, the training arguments, the seed and medrepl's "
                + "data order), the adapter to start from, the data file, launch.sh with accelerate configurations for one GPU, DDP, "
                + "FSDP, DeepSpeed ZeRO-2 and the CPU, the versions it was checked with, and a README. Before anything is written, every "
                + "row is rebuilt from the data file as train.py will rebuild it and compared with the trainer's; a setting that has no "
                + "equivalent in transformers stops the export and points at the command that set it. Nothing is trained here. "
                + "The result comes back with `load_adapter MODEL DIR/output`. From the command line, without running the long cells: "
                + "`medrepl export-training NOTEBOOK DIR [-p NAME=VALUE]`. docs/scaling.md says more.",
             positional: [Parameter("trainer", .object("Trainer"), help: "from make_trainer (trained or not: the export starts from its adapter as it is)"),
                          Parameter("dir", .path, help: "the project folder (files already there, such as output/, stay)")],
             examples: ["export_training trainer outputs/medical-lora-gpu"]) { inv, session in
            try exportTraining(try inv.object("trainer", as: TrainerObject.self), to: try inv.string("dir"), inv: inv, session: session)
            return .none
        }
    }
}

/// Writes `trainer`'s run to `path` and says what was written: `export_training`, and `medrepl export-training`
/// through `exportTraining(before:to:session:)`.
func exportTraining(_ trainer: TrainerObject, to path: String, inv: Invocation, session: Session) throws {
    let url = session.resolvePath(path)
    let export = try TrainingExport(trainer, inv: inv, session: session,
                                    exportedFrom: session.provenance["notebook"] ?? "the medrepl shell")
    let shown = session.displayPath(url)
    let files = try ExportedProject.write(export, to: url, shownAs: shown)
    session.writeLine("exported the training run to \(shown): " + files.joined(separator: ", "))
    session.writeLine("  \(export.rowCount) rows (\(export.mode) mode, max_length \(export.maxLength))"
                      + (export.evalRowCount > 0 ? " and \(export.evalRowCount) held-out rows" : "")
                      + ", \(export.steps) steps, \(export.modelName) from \(export.modelFile); every row rebuilt from the data file as train.py will")
    session.writeLine("  run it: cd \(shown) && pip install -r requirements.txt && python train.py   (GPUs: bash launch.sh ddp N; README.md)")
    session.writeLine("  bring it back: load_adapter MODEL \(shown)/output")
    for w in export.warnings { session.writeLine(w) }
}

/// `medrepl export-training NOTEBOOK DIR`: the notebook ran up to its `train` statement (not run); export the
/// trainer that statement names. Errors point at the statement.
///
/// ```swift
/// session.beforeStatement = { if $0.verb == "train" { found = $0; session.exitRequested = 0 } }
/// // ... run the notebook's cells, then:
/// try exportTraining(before: found, to: "outputs/gpu-run", session: session)
/// ```
public func exportTraining(before train: Statement, to path: String, session: Session) throws {
    guard let verb = session.registry.verb(named: "train") else { throw LanguageError(.runtime, "no train verb") }
    let inv = try session.bind(train, to: verb)
    try exportTraining(try inv.object("trainer", as: TrainerObject.self), to: path, inv: inv, session: session)
}
