import Datasets
import Foundation
import Kernels
import Language
import NotebookFormat
import Support
import Tokenizers
import Training

// LoRA and training verbs: configure an adapter, wrap the model, tokenize the formatted rows in the
// notebook's way or the careful way, set the Trainer's arguments, train. Ctrl-C during `train` stops at
// the next optimizer step with every trained value kept; `train` again continues from there.

extension VerbGroup {
    /// `lora_config`, `apply_lora`, `tokenize_dataset`, `training_args`, `make_trainer`, `train`, `loss_curve`.
    public static var training: VerbGroup {
        VerbGroup("Training", intro: "Configure LoRA, tokenize the formatted rows, and train the adapter.", verbs: [
            Verb("lora_config", summary: "LoRA settings with peft's names and meanings.",
                 keywords: LoraConfig.settings.parameters(defaults: .notebook),
                 examples: ["cfg = lora_config", "cfg = lora_config r=8 lora_alpha=16 target_modules=[\"q_proj\", \"v_proj\"]"], makes: "LoraConfig") { inv, session in
                var config = LoraConfig.notebook
                try LoraConfig.settings.store(inv, into: &config, session: session)
                do { try config.validate() } catch let error as LoraError { throw inv.error(error.description, at: "target_modules") }
                return .object(LoraConfigObject(config))
            },

            Verb("apply_lora", summary: "Wrap a model with a fresh LoRA adapter (B = 0) and print peft's trainable-parameters line.",
                 details: "The base weights stay frozen and shared; a model that already had an adapter gets the new one instead.",
                 positional: [Parameter("model", .object("Model"), help: "the model"),
                              Parameter("config", .object("LoraConfig"), help: "the LoRA settings")],
                 examples: ["apply_lora model cfg"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                var config = try inv.object("config", as: LoraConfigObject.self).config
                config.base_model_name_or_path = config.base_model_name_or_path ?? model.source
                let line: String
                do {
                    line = try config.trainableParametersLine(config: model.base.config)
                    let replaced = model.lora != nil
                    model.lora = try LoraModel(base: model.base, lora: config)
                    if replaced { session.writeLine("replaced the model's previous adapter") }
                } catch let error as LoraError {
                    throw inv.error(error.description, at: "config")
                }
                session.writeLine(line)
                return .none
            },

            Verb("tokenize_dataset", summary: "Tokenize formatted rows for training: the notebook's way, or the careful default.",
                 details: "mode=notebook reproduces the notebook: each row's text truncated and padded to max_length with the pad "
                    + "token, labels = input_ids with every pad position masked to -100. When pad = eos the final EOS is masked "
                    + "too, so the model never learns to stop; a warning says so. mode=default masks the prompt (loss on the "
                    + "answer only), trains the end-of-turn token, formats with the tokenizer's chat template (or template=) "
                    + "and pads each batch to its longest row only. It trains on each answer as a sentence, \"The answer is X.\" "
                    + "(answer_format=bare for the answer as it is): on SmolLM2 the bare answers lowered held-out accuracy "
                    + "(18.5% to 5.0% at learning rate 1e-4) and the sentences did not (18.5% to 21.0%), see docs/recipe.md. "
                    + "Rows format_prompts already wrote with an answer_format keep theirs.",
                 positional: [Parameter("data", .object("Dataset"), help: "the dataset (formatted by format_prompts for mode=notebook)"),
                              Parameter("tokenizer", .object(""), help: "the Tokenizer, or a Model whose tokenizer to use")],
                 keywords: [
                    Parameter("mode", .choice(["notebook", "default"]), default: .string("notebook"), help: "the pipeline"),
                    Parameter("max_length", .int, default: .int(512), help: "longest row in tokens; longer rows are truncated"),
                    TemplateChoice.parameter(help: "mode=default: the chat format: the tokenizer's own (auto), a family, or the notebook's literal Llama-3 text"),
                    Parameter("answer_format", .choice(AnswerFormat.allCases.map(\.rawValue)), optional: true,
                              help: "mode=default: how the answers are written (default: sentence, unless format_prompts chose)"),
                    Parameter("allow_empty", .bool, default: .bool(false),
                              help: "mode=default: keep rows whose whole answer max_length cut away (they train on nothing) instead of stopping"),
                 ],
                 examples: ["tokens = tokenize_dataset texts model", "tokens = tokenize_dataset train model mode=default max_length=1024"], makes: "TokenizedDataset") { inv, session in
                let dataObject = try inv.object("data", as: DatasetObject.self)
                let tok = try tokenizerArgument(inv, "tokenizer")
                let maxLength = try inv.int("max_length")
                guard maxLength > 1 else { throw inv.error("max_length must be at least 2, got \(maxLength)", at: "max_length") }
                let mode = try inv.string("mode")
                if mode == "notebook" && inv.has("answer_format") {
                    throw inv.error("answer_format= is for mode=default; notebook mode trains on the text format_prompts wrote", at: "answer_format",
                                    hint: "give it to format_prompts: format_prompts DATA answer_format=sentence")
                }
                var recipe = TokenizationRecipe(mode: mode, maxLength: maxLength, tokenizer: tok, chat: nil, answers: nil)
                if mode == "default" {
                    recipe.chat = try chatTemplate(inv)
                    recipe.answers = try inv.optionalString("answer_format").flatMap(AnswerFormat.init(rawValue:))
                    recipe.allowEmpty = try inv.bool("allow_empty")
                }
                let object = try tokenizeRows(dataObject, recipe, inv, session, data: "data", length: "max_length")
                session.writeLine(object.factsLine)
                for warning in object.warnings { session.writeLine(warning) }
                if mode == "notebook" && object.padTokenId == tok.eosTokenId { session.writeLine(TokenizedExample.notebookEOSWarning) }
                return .object(object)
            },

            Verb("show_tokens", summary: "One tokenized row as the trainer sees it: the trained tokens in [brackets], in colour at a terminal.",
                 details: "Special tokens are shown as written (<|im_end|>, <|eot_id|>); padding is counted, not shown. "
                    + "The first line says how many tokens the row has, how many carry a loss, and whether max_length cut it: "
                    + "a row whose answer is cut away trains on nothing; an end of turn left out of the brackets is never learned, "
                    + "so the model does not learn to stop.",
                 positional: [Parameter("tokens", .object("TokenizedDataset"))],
                 keywords: [Parameter("row", .int, default: .int(0), help: "the row (0-based)"),
                            Parameter("tokenizer", .object(""), optional: true,
                                      help: "the Tokenizer or Model to decode with (default: the one that tokenized the rows)")],
                 examples: ["show_tokens tokens", "show_tokens tokens row=3"]) { inv, session in
                let tokens = try inv.object("tokens", as: TokenizedDatasetObject.self)
                let row = try inv.int("row")
                guard tokens.examples.indices.contains(row) else {
                    throw inv.error("row \(row) is outside 0...\(tokens.examples.count - 1) (\(tokens.examples.count) rows)", at: "row")
                }
                let tok: any Tokenizer
                if inv.has("tokenizer") {
                    tok = try tokenizerArgument(inv, "tokenizer")
                } else if let recorded = tokens.recipe?.tokenizer {
                    tok = recorded
                } else {
                    throw inv.error("these rows do not say which tokenizer made them", at: "tokens", hint: "show_tokens TOKENS tokenizer=MODEL")
                }
                let view = TokenView(tokens.examples[row], tokenizer: tok)
                let cut = tokens.truncatedRowIndices.contains(row) ? "cut at max_length \(tokens.maxLength)" : "not cut"
                var facts = "row \(row) of \(tokens.examples.count) (\(tokens.mode) mode): \(view.realCount) tokens, \(view.trainedCount) trained"
                    + " (in [brackets]), \(cut)"
                if view.paddingCount > 0 { facts += "; \(view.paddingCount) padding tokens not shown" }
                session.writeLine(facts)
                if view.trainedCount == 0 { session.writeLine("warning: nothing in this row is trained: its answer was cut away by max_length") }
                session.output.write(plain: view.plain + "\n", styled: view.styled + "\n")
                return .none
            },

            Verb("training_args", summary: "The Trainer's settings, with the notebook's names; `show args` lists them.",
                 keywords: TrainingArguments.settings.parameters(defaults: .notebook(output_dir: "")),
                 examples: ["args = training_args output_dir=outputs/medical-lora",
                            "args = training_args output_dir=/tmp/run max_steps=4 logging_steps=1",
                            "args = training_args output_dir=/tmp/run bf16=true gradient_checkpointing=true"], makes: "TrainingArguments") { inv, session in
                var args = TrainingArguments.notebook(output_dir: "")
                try TrainingArguments.settings.store(inv, into: &args, session: session)
                do { try args.validate() } catch let error as SettingError { throw inv.error(error.description, at: error.name) }
                if args.bf16, let note = WeightMatrix.bf16FallbackNote { session.writeLine(note) }
                return .object(TrainingArgumentsObject(args))
            },

            Verb("make_trainer", summary: "A Trainer for a model with a LoRA adapter, training arguments and tokenized rows.",
                 details: "eval= gives held-out rows: a Dataset (tokenized here exactly as the training rows were; an "
                    + "empty one means no evaluation) or a TokenizedDataset made the same way. Their loss, with no dropout and no update, is computed every "
                    + "eval_steps (default: logging_steps) and becomes the table's Validation Loss column; "
                    + "load_best_model_at_end and early_stopping_patience of training_args use it.",
                 positional: [Parameter("model", .object("Model"), help: "the model, after apply_lora"),
                              Parameter("args", .object("TrainingArguments")),
                              Parameter("tokens", .object("TokenizedDataset"))],
                 keywords: [Parameter("eval", .object(""), optional: true,
                                      help: "held-out rows for the validation loss: a Dataset (such as parts.test of split) or a TokenizedDataset")],
                 examples: ["trainer = make_trainer model args tokens", "trainer = make_trainer model args tokens eval=parts.test"], makes: "Trainer") { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let argumentsObject = try inv.object("args", as: TrainingArgumentsObject.self), args = argumentsObject.arguments
                let tokens = try inv.object("tokens", as: TokenizedDatasetObject.self)
                guard let lora = model.lora else {
                    throw inv.error("the model has no LoRA adapter to train", at: "model", hint: "run apply_lora MODEL CFG first")
                }
                guard !tokens.examples.isEmpty else { throw inv.error("the training dataset is empty", at: "tokens") }
                let held = try evaluationRows(inv, session, like: tokens)
                if args.needsEvaluation && held == nil {
                    throw inv.error(Trainer.evaluationRowsMissing(args), at: "args",
                                    hint: "give held-out rows: make_trainer MODEL ARGS TOKENS eval=parts.test")
                }
                let trainer: Trainer
                do {
                    trainer = try Trainer(model: lora, args: args, examples: tokens.examples, padTokenId: tokens.padTokenId,
                                          evalExamples: held?.examples ?? [])
                } catch let error as LoraError {
                    throw inv.error(error.description, at: "tokens")
                }
                var line = "\(tokens.examples.count) rows, \(trainer.stepsPerEpoch) optimizer step\(trainer.stepsPerEpoch == 1 ? "" : "s") per epoch, "
                    + "\(trainer.state.max_steps) step\(trainer.state.max_steps == 1 ? "" : "s") in all"
                if let held {
                    line += "; validation loss on \(held.examples.count) held-out rows every \(args.evaluationInterval) step\(args.evaluationInterval == 1 ? "" : "s")"
                    if args.evaluationInterval > trainer.state.max_steps {
                        line += " (never within these \(trainer.state.max_steps) steps: lower eval_steps)"
                    }
                }
                session.writeLine(line)
                trainer.runRecord = try runRecord(model, tokens, held, session)
                trainer.runRecordVersion = MedreplVersion.string
                if let warning = promptAgreementWarning(model, tokens) { session.writeLine(warning) }
                if let held {
                    let shared = Set(held.questions).intersection(tokens.questions).count
                    if shared > 0 {
                        session.writeLine("warning: \(shared) of the \(held.examples.count) held-out rows are also training rows: their validation loss measures memory, not generalisation")
                    }
                }
                let object = TrainerObject(trainer: trainer, model: model, tokens: tokens)
                object.arguments = argumentsObject
                object.held = held
                return .object(object)
            },

            Verb("train", summary: "Train: a progress bar, a `Step | Training Loss` table, the summary and the loss curve.",
                 details: "Every logging_steps a table row is written; checkpoints go to output_dir/checkpoint-N every save_steps. "
                    + "Ctrl-C stops at the next optimizer step and keeps the trained adapter; `train TRAINER` again continues. "
                    + "until_step=N stops after step N as Ctrl-C would there (`save` records a stopped train that way, so it replays exactly). "
                    + "resume=true first restores the newest checkpoint of output_dir.",
                 positional: [Parameter("trainer", .object("Trainer"))],
                 keywords: [Parameter("resume", .bool, default: .bool(false), help: "continue from the newest checkpoint in output_dir"),
                            Parameter("until_step", .int, optional: true, help: "stop after this optimizer step (default: train to the end)"),
                            Parameter("progress", .bool, default: .bool(true), help: "draw the progress bar on standard error"),
                            Parameter("curve", .bool, default: .bool(true), help: "draw the loss curve at the end")],
                 examples: ["train trainer", "train trainer until_step=4", "train trainer resume=true"]) { inv, session in
                let object = try inv.object("trainer", as: TrainerObject.self)
                let trainer = object.trainer
                var checkpoint: URL? = nil
                if try inv.bool("resume") {
                    let dir = URL(fileURLWithPath: trainer.args.output_dir)
                    guard let latest = Trainer.latestCheckpoint(in: dir) else {
                        throw inv.error("no checkpoint-N folder in \(trainer.args.output_dir) to resume from", at: "resume")
                    }
                    checkpoint = latest
                    session.writeLine("resuming from \(latest.lastPathComponent)")
                }
                guard checkpoint != nil || trainer.state.global_step < trainer.state.max_steps else {
                    session.writeLine("the trainer has already run all \(trainer.state.max_steps) steps")
                    return .none
                }
                let untilStep = try inv.optionalInt("until_step")
                if let untilStep {
                    guard untilStep >= trainer.state.global_step || checkpoint != nil else {
                        throw inv.error("until_step=\(untilStep) is before the trainer's step \(trainer.state.global_step)", at: "until_step",
                                        hint: "give a step after \(trainer.state.global_step), up to \(trainer.state.max_steps)")
                    }
                    guard untilStep <= trainer.state.max_steps else {
                        throw inv.error("until_step=\(untilStep) is past the last step, \(trainer.state.max_steps)", at: "until_step",
                                        hint: "leave it out to train to the end")
                    }
                }
                var headerWritten = false, interrupted = false
                let validation = !trainer.evalExamples.isEmpty
                var row = LossTableRow(step: 0)
                trainer.showProgress = try inv.bool("progress")
                trainer.onLog = { row.step = $0.step; row.training = $0.loss }
                trainer.onEval = { row.step = $0.step; row.validation = $0.eval_loss }
                trainer.onStep = { step, _ in
                    // one table row per step that logged a training loss or computed a validation loss
                    if row.training != nil || row.validation != nil {
                        if !headerWritten { session.writeLine(LossTableRow.header(validation: validation)); headerWritten = true }
                        session.writeLine(row.text(validation: validation))
                        row = LossTableRow(step: 0)
                    }
                    object.afterStep?(step)
                }
                let ctrlC = object.interruptRequested ?? { session.takeInterrupt() }
                trainer.shouldStop = {
                    if let untilStep, trainer.state.global_step >= untilStep { return true }
                    if ctrlC() { interrupted = true; return true }
                    return false
                }
                defer { trainer.onLog = { _ in }; trainer.onEval = { _ in }; trainer.onStep = { _, _ in }; trainer.shouldStop = { false } }
                let output: TrainOutput
                do {
                    if checkpoint == nil && trainer.showProgress && trainer.state.global_step < trainer.state.max_steps {
                        // before long work: what it will take (shown, not recorded: it varies from run to run)
                        let e = try trainer.estimate()
                        let memory = MemoryInfo.residentBytes().map { ", \(decimalBytes($0)) in memory now" } ?? ""
                        session.output.writeUnrecorded("\(e.steps) step\(e.steps == 1 ? "" : "s") to run: about \(ProgressBar.describeDuration(e.seconds)) "
                            + "(a pass of \(e.measuredTokens) tokens took \(String(format: "%.2f", e.measuredSeconds)) s); activations up to "
                            + "\(decimalBytes(e.activationBytes))\(memory)\n")
                    }
                    output = try trainer.train(resumeFrom: checkpoint)
                } catch let error as NonFiniteLossError {
                    throw inv.error("\(error.description); the adapter keeps its last good values", at: "trainer")
                }
                object.lastOutput = output
                if trainer.state.global_step > 0 {
                    object.model.trainingRecord = trainer.record(); object.model.returnedRun = nil
                    object.model.trainedQuestions.formUnion(object.tokens.questions)
                    object.model.trainedMode = object.tokens.mode
                    object.model.trainedAnswerFormat = object.tokens.mode == "default" ? AnswerFormat(rawValue: object.tokens.answerFormat) : nil
                }
                session.writeLine(output.summary)
                if output.early_stopped, let best = trainer.state.best_metric, let at = trainer.state.best_global_step {
                    let patience = trainer.args.early_stopping_patience ?? 0
                    session.writeLine("early stopping at step \(trainer.state.global_step) of \(trainer.state.max_steps): the validation loss did not improve "
                                      + "for \(patience) evaluation\(patience == 1 ? "" : "s") (best \(String(format: "%.6f", best)) at step \(at))")
                }
                if output.loaded_best, let best = trainer.state.best_metric, let at = trainer.state.best_global_step {
                    session.writeLine("loaded the best adapter: step \(at), validation loss \(String(format: "%.6f", best))"
                                      + (at == trainer.state.global_step ? " (the last step)" : " (not the last step's, \(trainer.state.global_step))"))
                }
                if try inv.bool("curve"), trainer.state.step_losses.count > 1 {
                    session.writeLine(LossCurve.render(trainer.state.step_losses))
                    let evals = trainer.state.eval_history
                    if evals.count > 1 {
                        session.writeLine(LossCurve.render(evals.map(\.eval_loss), title: "validation loss", unit: "evaluations",
                                                           steps: (evals.first!.step, evals.last!.step)))
                    }
                }
                if output.stopped {
                    session.writeLine("stopped at step \(trainer.state.global_step) of \(trainer.state.max_steps); "
                                      + "the trained adapter is kept; run train again to continue")
                }
                if interrupted {
                    session.stoppedByInterrupt(replayWith: "until_step", value: "\(trainer.state.global_step)")
                    throw CancelledError()
                }
                return .none
            },

            Verb("loss_curve", summary: "Draw the trainer's losses as a curve, and write them as an SVG chart.",
                 details: "The text curve shows the loss of every step (and, with eval=, the validation loss of every "
                    + "evaluation). The SVG has the training loss of every logged step, the validation loss and the "
                    + "learning rate, against the step; it goes to output_dir/loss_curve.svg unless svg= says where.",
                 positional: [Parameter("trainer", .object("Trainer"), help: "a trainer that has trained")],
                 keywords: [Parameter("width", .int, default: .int(60), help: "columns"),
                            Parameter("height", .int, default: .int(10), help: "rows"),
                            Parameter("svg", .path, optional: true, help: "where to write the SVG chart (default: output_dir/loss_curve.svg)")],
                 examples: ["loss_curve trainer", "loss_curve trainer svg=outputs/run1.svg"]) { inv, session in
                let trainer = try inv.object("trainer", as: TrainerObject.self).trainer
                let state = trainer.state
                guard !state.step_losses.isEmpty else { throw inv.error("this trainer has not trained a step yet", at: "trainer", hint: "run train TRAINER") }
                let width = try inv.int("width"), height = try inv.int("height")
                guard width >= 10 else { throw inv.error("width must be at least 10", at: "width") }
                guard height >= 3 else { throw inv.error("height must be at least 3", at: "height") }
                session.writeLine(LossCurve.render(state.step_losses, width: width, height: height))
                if state.eval_history.count > 1 {
                    session.writeLine(LossCurve.render(state.eval_history.map(\.eval_loss), width: width, height: height, title: "validation loss",
                                                       unit: "evaluations", steps: (state.eval_history.first!.step, state.eval_history.last!.step)))
                }
                let path = try inv.optionalString("svg") ?? (trainer.args.output_dir as NSString).appendingPathComponent("loss_curve.svg")
                guard path.lowercased().hasSuffix(".svg") else {
                    throw inv.error("the chart is an SVG file: give a path ending in .svg", at: "svg")
                }
                let url = session.resolvePath(path)
                let training = state.log_history.isEmpty ? state.step_losses.enumerated().map { ($0.offset + 1, $0.element) }
                                                         : state.log_history.map { ($0.step, $0.loss) }
                let svg = LossCurve.svg(training: training, validation: state.eval_history.map { ($0.step, $0.eval_loss) },
                                        learningRate: (0..<state.global_step).map { ($0 + 1, trainer.schedule.learningRate(atStep: $0)) },
                                        title: "\(session.displayPath(session.resolvePath(trainer.args.output_dir))): \(state.global_step) steps")
                try FileSystemError.attempt("cannot create the folder for the chart", path: url.deletingLastPathComponent().path) {
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                }
                try AtomicFile.write(Data(svg.utf8), to: url)
                session.writeLine("wrote \(session.displayPath(url)): the training loss\(state.eval_history.isEmpty ? "" : ", the validation loss") and the learning rate by step")
                return .none
            },
            exportTrainingVerb,
        ])
    }
}

/// mode=default's chat template: `template=`, the tokenizer's own for `auto`.
private func chatTemplate(_ inv: Invocation) throws -> ChatTemplate {
    try TemplateChoice.chat(named: try inv.string("template")) { try tokenizerChatTemplate(inv, "tokenizer") }!
}

/// The chat template family of a Tokenizer or Model argument's tokenizer; when it has none medrepl recognises,
/// an error naming the file it was read from (`m/tokenizer_config.json: chat_template: missing ...`) and `template=`.
func tokenizerChatTemplate(_ inv: Invocation, _ name: String) throws -> ChatTemplate {
    let object = try tokenizerObject(inv, name)
    let source = object.templateSource ?? ChatTemplateSource(file: "the tokenizer from \(object.source)", field: "chat_template")
    do {
        return try ChatTemplate.recognise(object.tokenizer.chatTemplate, from: source)
    } catch let error as TokenizerError {
        throw inv.error(error.description, at: name, hint: "name a family instead: template=chatml (or llama3, zephyr, llama2)")
    }
}
