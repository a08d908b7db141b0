import Datasets
import Foundation
import Kernels
import Language
import Llama
import Notebook
import NotebookFormat
import Support
import TestSupport
import Testing
import Tokenizers

// The LoRA and training verbs end to end on a tiny random Llama (2 layers, hidden 64) whose vocabulary is the
// tiny byte-level BPE fixture's (600 tokens, ChatML, pad = eos = <|im_end|> = 2), on four rows of
// data/medqa_small.json, so every test trains in well under a second.
@Suite struct TrainingVerbsTests {
    static let fixtures = Repository.url("Tests/Fixtures")
    static let medqa = Repository.url("data/medqa_small.json").path
    /// ChatML written literally, so each text ends with <|im_end|>, the EOS.
    static let chatml = "<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n{answer}<|im_end|>"

    /// A session holding `model` (tiny random Llama with the tiny-bpe tokenizer) and `tok`.
    static func tinySession() throws -> (Session, () -> String) {
        let tok = try loadTokenizer(folder: fixtures.appendingPathComponent("tiny-bpe"))
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("tiny-llama/config.json"))) as! [String: Any]
        json["vocab_size"] = tok.vocabSize
        let config = try LlamaConfig.parse(json: JSONSerialization.data(withJSONObject: json))
        let base = LlamaModel.random(config: config, seed: 11)
        let tokenizer = TokenizerObject(tok, source: "tiny-bpe")
        let (session, output) = NotebookFixtures.session()
        session.set("model", .object(ModelObject(base: base, source: "tiny-random", tokenizer: tokenizer)))
        session.set("tok", .object(tokenizer))
        return (session, output)
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-train-\(UUID().uuidString)")
    }

    /// Loads `rows` rows, formats, configures LoRA, tokenizes (notebook mode, or default mode with ChatML) and makes a trainer.
    static func prepare(_ session: Session, outputDir: URL, steps: Int = 4, extra: String = "", maxLength: Int = 128,
                        rows: Int = 4, dropout: String = "0", mode: String = "notebook") throws {
        try session.run("""
            data = load_dataset "\(medqa)"
            part = select data 0 \(rows)
            texts = format_prompts part template="\(chatml)"
            cfg = lora_config r=4 lora_alpha=8 lora_dropout=\(dropout)
            apply_lora model cfg
            tokens = tokenize_dataset \(mode == "notebook" ? "texts tok mode=notebook" : "part tok mode=default template=chatml") max_length=\(maxLength)
            args = training_args output_dir="\(outputDir.path)" max_steps=\(steps) logging_steps=1 gradient_accumulation_steps=2 warmup_steps=0 learning_rate=0.01 \(extra)
            trainer = make_trainer model args tokens
            """, file: "<command line>")
    }

    static func trainer(_ session: Session) -> TrainerObject? {
        if case .object(let o)? = session.value(named: "trainer") { return o as? TrainerObject }
        return nil
    }

    static func tableRows(_ text: String) -> [(step: Int, loss: Double)] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let step = Int(parts[0]), let loss = Double(parts[1]) else { return nil }
            return (step, loss)
        }
    }

    func errorText(_ session: Session, _ text: String) -> String {
        do { try session.run(text, file: "<command line>"); return "no error" } catch { return "\(error)" }
    }

    @Test func notebookModeMasksPadsAndTheFinalEOS() throws {
        let (session, output) = try Self.tinySession()
        try Self.prepare(session, outputDir: Self.scratch())
        let out = output()
        #expect(out.contains("trainable params: 9,344 || all params: "))  // r=4 x (in + out) over 7 projections, 2 layers
        #expect(out.contains("warning: the pad token is the EOS token"))
        guard case .object(let o)? = session.value(named: "tokens"), let tokens = o as? TokenizedDatasetObject else {
            Issue.record("no tokens"); return
        }
        #expect(tokens.mode == "notebook" && tokens.padTokenId == 2)
        for ex in tokens.examples {
            #expect(ex.input_ids.count == 128)
            let real = ex.attention_mask!.reduce(0, +)
            #expect(Array(ex.attention_mask![..<real]) == [Int](repeating: 1, count: real))
            // The real text ends with <|im_end|> (the EOS, id 2): the collator's rule masks it like the pads.
            #expect(ex.input_ids[real - 1] == 2)
            #expect(ex.labels[real - 1] == -100)
            for i in 0..<128 { #expect(ex.labels[i] == (ex.input_ids[i] == 2 ? -100 : ex.input_ids[i])) }
        }
    }

    @Test func defaultModeMasksThePromptAndTrainsTheEndOfTurn() throws {
        let (session, output) = try Self.tinySession()
        try session.run("""
            data = load_dataset "\(Self.medqa)"
            part = select data 0 4
            tokens = tokenize_dataset part tok mode=default max_length=128 answer_format=bare
            sentences = tokenize_dataset part tok mode=default max_length=128
            """)
        #expect(!output().contains("warning"))
        // Issue 15: by default the careful pipeline trains on each answer as a sentence.
        #expect(output().contains("tokenized 4 rows (default mode): ") && output().contains("max_length 128, answers as \"The answer is ….\"\n"))
        if case .object(let o)? = session.value(named: "sentences"), let sentences = o as? TokenizedDatasetObject {
            let tok = try loadTokenizer(folder: Self.fixtures.appendingPathComponent("tiny-bpe"))
            let answer = tok.encode("The answer is Mitochondria.<|im_end|>\n", addSpecialTokens: false)
            #expect(Array(sentences.examples[0].labels.suffix(answer.count)) == answer)
        } else { Issue.record("no sentences") }
        #expect(errorText(session, "t = tokenize_dataset part tok answer_format=sentence").contains("answer_format= is for mode=default"))
        guard case .object(let o)? = session.value(named: "tokens"), let tokens = o as? TokenizedDatasetObject else {
            Issue.record("no tokens"); return
        }
        let tok = try loadTokenizer(folder: Self.fixtures.appendingPathComponent("tiny-bpe"))
        let prompt = tok.encode("<|im_start|>user\nWhich organelle is the site of oxidative phosphorylation?<|im_end|>\n<|im_start|>assistant\n",
                                addSpecialTokens: true)
        let answer = tok.encode("Mitochondria<|im_end|>\n", addSpecialTokens: false)
        let first = tokens.examples[0]
        #expect(first.input_ids == prompt + answer)
        #expect(first.labels == [Int](repeating: -100, count: prompt.count) + answer)
        #expect(first.labels.contains(2))            // the end-of-turn token is a target
        #expect(first.attention_mask == nil)         // padded per batch by the trainer, not here
    }

    @Test func formatPromptsWithTheTokenizersChatTemplate() throws {
        let (session, output) = try Self.tinySession()
        try session.run("""
            data = load_dataset "\(Self.medqa)"
            part = select data 0 1
            texts = format_prompts part template=chat tokenizer=tok
            """)
        #expect(output().contains("formatted 1 of 1 rows with the chat template\n"))
        guard case .object(let o)? = session.value(named: "texts"), let texts = o as? DatasetObject else { Issue.record("no texts"); return }
        // tiny-bpe's Jinja template is plain ChatML without a default system prompt.
        #expect(texts.dataset.rows[0].text == "<|im_start|>user\nWhich organelle is the site of oxidative phosphorylation?<|im_end|>\n"
                + "<|im_start|>assistant\nMitochondria<|im_end|>\n")
        let missing = errorText(session, "t = format_prompts part template=chat")
        #expect(missing.contains("template=chat needs the model's chat template"))
    }

    /// Issue 15: answers as a sentence, in the text (notebook mode) and in the rows (default mode's chat examples).
    @Test func answersAsASentence() throws {
        let (session, output) = try Self.tinySession()
        try session.run("""
            data = load_dataset "\(Self.medqa)"
            part = select data 0 2
            texts = format_prompts part template=chatml answer_format=sentence
            tokens = tokenize_dataset texts tok mode=default template=chatml
            """)
        #expect(output().contains("formatted 2 of 2 rows with the chatml template, answers as \"The answer is ….\"\n"))
        guard case .object(let o)? = session.value(named: "texts"), let texts = o as? DatasetObject else { Issue.record("no texts"); return }
        #expect(texts.dataset.rows[0].answer == "The answer is Mitochondria.")
        #expect(texts.dataset.rows[0].text?.contains("<|im_start|>assistant\nThe answer is Mitochondria.<|im_end|>") == true)
        #expect(AnswerFormat.sentence.apply(" Warfarin. ") == "The answer is Warfarin.")
        // answer_format=self: the model answers first (the tiny random one is never right, so every answer stays).
        try session.run("own = format_prompts part template=chatml answer_format=self model=model")
        #expect(output().contains("formatted 2 of 2 rows with the chatml template, 0 answers in the model's own words (it was right), the rest as the dataset has them"), "\(output())")
        #expect(errorText(session, "t = format_prompts part answer_format=self").contains("name the model"))
        #expect(AnswerFormat.bare.apply("Warfarin") == "Warfarin")
    }

    @Test func trainingWritesTableRowsCheckpointsAndKeepsTheLimit() throws {
        let (session, output) = try Self.tinySession()
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.prepare(session, outputDir: dir, extra: "save_steps=1 save_total_limit=2")
        try session.run("train trainer progress=false")
        let out = output()
        #expect(out.contains("Step | Training Loss\n"))
        let rows = Self.tableRows(out)
        #expect(rows.map(\.step) == [1, 2, 3, 4])
        #expect(rows.allSatisfy { $0.loss.isFinite && $0.loss > 0 })
        #expect(rows[3].loss < rows[0].loss)          // lr 0.01 on four rows: the loss falls
        #expect(out.contains("{'train_runtime': "))
        #expect(out.contains("'epoch': 2.0}"))         // 4 rows / (1 x 2) = 2 steps per epoch
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        #expect(names == ["checkpoint-3", "checkpoint-4"])
        let t = try #require(Self.trainer(session))
        #expect(t.field("state").flatMap { v -> Value? in if case .object(let s) = v { return s.field("global_step") }; return nil } == .int(4))
        if case .list(let history)? = t.field("log_history") { #expect(history.count == 4) } else { Issue.record("no log_history") }
        try session.run("lr = trainer.args.learning_rate\nloss_curve trainer")
        #expect(session.value(named: "lr") == .double(0.01))
        #expect(output().contains("training loss"))
    }

    /// Provenance (issue 19): each checkpoint and the saved adapter carry training_run.json (the data file's SHA-256,
    /// the rows, every argument, the seed, the version, the kernel level) beside transformers' trainer_state.json.
    @Test func checkpointsAndSavedAdaptersRecordWhatMadeThem() throws {
        let (session, output) = try Self.tinySession()
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.prepare(session, outputDir: dir, extra: "save_steps=2")
        try session.run("train trainer progress=false curve=false\nsave_adapter model \"\(dir.path)/adapter\"")
        #expect(output().contains("tokenizer_config.json, trainer_state.json, training_run.json"))
        for folder in ["checkpoint-4", "adapter"] {
            let url = dir.appendingPathComponent(folder)
            let run = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("training_run.json"))) as? [String: Any])
            let data = try #require(run["data"] as? [String: Any])
            let file = try #require((data["files"] as? [[String: Any]])?.first)
            #expect(file["sha256"] as? String == SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: Self.medqa))))
            #expect(data["rows"] as? String == "0-3" && data["mode"] as? String == "notebook" && data["max_length"] as? Int == 128)
            #expect(run["global_step"] as? Int == 4 && run["seed"] as? Int == 42)
            #expect((run["training_arguments"] as? [String: Any])?["learning_rate"] as? Double == 0.01)
            #expect((run["lora"] as? [String: Any])?["r"] as? Int == 4)
            #expect(run["kernel_level"] as? String == KernelLevel.current.description && run["medrepl_version"] as? String == MedreplVersion.string)
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("trainer_state.json"))) as? [String: Any])
            #expect((state["log_history"] as? [Any])?.count == 4)
        }
        // a loaded adapter was not trained here: saving it records no run
        try session.run("load_adapter model \"\(dir.path)/adapter\"\nsave_adapter model \"\(dir.path)/again\"")
        #expect(output().contains("  training_run.json: 4 steps on 4 rows of "))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("again/training_run.json").path))
        // records beside an adapter that are not JSON are said, once by name, and the adapter still loads
        for name in ["training_run.json", "run.json"] {
            try Data("{not json".utf8).write(to: dir.appendingPathComponent("adapter").appendingPathComponent(name))
        }
        try session.run("load_adapter model \"\(dir.path)/adapter\"")
        let said = output()
        for name in ["training_run.json", "run.json"] {
            #expect(said.contains("\n  \(name): could not be read as JSON (the adapter itself loaded)\n"), "\(said)")
        }
        #expect(!said.contains("json beside"))
    }

    @Test func ctrlCStopsAtAStepBoundaryAndResumeContinuesTheSameRun() throws {
        // An uninterrupted reference run.
        let (reference, referenceOut) = try Self.tinySession()
        let referenceDir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: referenceDir) }
        try Self.prepare(reference, outputDir: referenceDir, extra: "save_steps=2")
        try #require(Self.trainer(reference)).interruptRequested = { false }
        try reference.run("train trainer progress=false")
        let expected = Self.tableRows(referenceOut())

        // Ctrl-C pressed during step 2: training stops after it, the state stays in the session.
        let (session, output) = try Self.tinySession()
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.prepare(session, outputDir: dir, extra: "save_steps=2")
        let trainer = try #require(Self.trainer(session))
        trainer.afterStep = { step in if step == 2 { session.interrupt() } }
        #expect(throws: CancelledError.self) { try session.run("train trainer progress=false") }
        #expect(trainer.trainer.state.global_step == 2)
        #expect(output().contains("stopped at step 2 of 4; the trained adapter is kept"))
        #expect(Array(Self.tableRows(output()).map(\.loss)) == Array(expected.prefix(2).map(\.loss)))

        // A fresh adapter and trainer resumed from checkpoint-2 logs the reference run's steps 3 and 4.
        let (resumed, resumedOut) = try Self.tinySession()
        try Self.prepare(resumed, outputDir: dir, extra: "save_steps=2")
        try #require(Self.trainer(resumed)).interruptRequested = { false }
        try resumed.run("train trainer resume=true progress=false")
        #expect(resumedOut().contains("resuming from checkpoint-2\n"))
        let rows = Self.tableRows(resumedOut())
        #expect(rows.map(\.step) == [3, 4])
        for (got, want) in zip(rows, expected.suffix(2)) { #expect(abs(got.loss - want.loss) < 1e-5) }
    }

    /// Issue 19: resume is bit-exact in f32 in both pipelines with dropout on: stopped after step 2 and resumed from
    /// checkpoint-2 in a fresh session, the run's step losses and final adapter equal an uninterrupted run's exactly.
    @Test(arguments: ["notebook", "default"])
    func resumeIsBitExactInBothPipelinesWithDropout(mode: String) throws {
        func prepared(_ dir: URL) throws -> (Session, TrainerObject) {
            let (session, _) = try Self.tinySession()
            try Self.prepare(session, outputDir: dir, steps: 5, extra: "per_device_train_batch_size=2 save_steps=2",
                             maxLength: 96, rows: 6, dropout: "0.1", mode: mode)
            let object = try #require(Self.trainer(session))
            object.interruptRequested = { false }
            return (session, object)
        }
        let referenceDir = Self.scratch(), dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: referenceDir); try? FileManager.default.removeItem(at: dir) }
        let (reference, full) = try prepared(referenceDir)
        try reference.run("train trainer progress=false curve=false")

        let (first, stopped) = try prepared(dir)
        try first.run("train trainer progress=false curve=false until_step=3")
        #expect(stopped.trainer.state.global_step == 3)
        let (second, resumed) = try prepared(dir)   // a fresh session: new adapter, new optimizer
        try second.run("train trainer resume=true progress=false curve=false")
        #expect(resumed.trainer.state.step_losses.count == 5)
        #expect(resumed.trainer.state.step_losses == full.trainer.state.step_losses, "\(mode): losses differ")
        #expect(resumed.trainer.model.adapter.snapshot() == full.trainer.model.adapter.snapshot(), "\(mode): adapters differ")
    }

    /// Issue 14: right after training on rows 0–3, evaluating the same data scored rows 0–19 without a word.
    @Test func evaluationAfterTrainingLeavesOutTheTrainedRows() throws {
        let (session, output) = try Self.tinySession()
        try Self.prepare(session, outputDir: Self.scratch(), extra: "save_steps=0")
        try #require(Self.trainer(session)).interruptRequested = { false }
        try session.run("train trainer progress=false curve=false")
        let before = output().count
        try session.run("r = evaluate model data limit=3 max_new_tokens=2")
        var said = String(output().dropFirst(before))
        #expect(said.contains("held out: 423 rows, leaving out the 4 the adapter was trained on (rows 0–3 of medqa_small.json); train_rows= chooses the rows instead"), "\(said)")
        // An explicit range wins, with a note; the base model (adapter off) needs no hold-out.
        let mark = output().count
        try session.run("r2 = evaluate model data limit=2 train_rows=2 max_new_tokens=2")
        said = String(output().dropFirst(mark))
        #expect(said.contains("note: 2 of the 425 rows evaluated were trained on (rows 2–3 of medqa_small.json)"), "\(said)")
        let mark2 = output().count
        try session.run("adapter model off")
        try session.run("r3 = evaluate model data limit=2 max_new_tokens=2")
        said = String(output().dropFirst(mark2))
        #expect(!said.contains("held out") && !said.contains("note:"), "\(said)")
    }

    /// Issue 15: the notebook's evaluation cell follows its mode: protocol=auto is the notebook's protocol after
    /// training in notebook mode, and the careful one after mode=default (it evaluated 0/20 in the wrong format).
    @Test func protocolAutoFollowsHowTheAdapterWasTrained() throws {
        for mode in ["notebook", "default"] {
            let (session, output) = try Self.tinySession()
            try Self.prepare(session, outputDir: Self.scratch(), extra: "save_steps=0")
            if mode == "default" {
                try session.run("tokens = tokenize_dataset part tok mode=default template=chatml\ntrainer = make_trainer model args tokens")
            }
            try #require(Self.trainer(session)).interruptRequested = { false }
            try session.run("train trainer progress=false curve=false")
            let mark = output().count
            // (the tiny model's 128 positions cannot hold the notebook's prompt: that run stops at its first example)
            _ = errorText(session, "r = evaluate model data protocol=auto train_rows=10 k=2 limit=2 max_new_tokens=2 output=\"\(Self.scratch().path).json\"")
            let said = String(output().dropFirst(mark))
            if mode == "notebook" {
                #expect(said.hasPrefix("Evaluating on 2 random test examples"), "\(said)")
            } else {
                #expect(said.hasPrefix("careful: ") && said.contains("n = 2)"), "\(said)")
            }
        }
    }

    /// make_trainer ... eval=: a Dataset tokenized as the training rows were, the three-column table, the best
    /// adapter put back; and the wrong inputs a hurried person gives.
    @Test func heldOutRowsGiveAValidationColumnAndTheBestAdapter() throws {
        let (session, output) = try Self.tinySession()
        try session.run("""
            data = load_dataset "\(Self.medqa)"
            part = select data 0 8
            parts = split part at=6
            cfg = lora_config r=4 lora_alpha=8 lora_dropout=0
            apply_lora model cfg
            tokens = tokenize_dataset parts.train tok mode=default template=chatml max_length=128
            args = training_args output_dir="\(Self.scratch().path)" max_steps=4 logging_steps=1 eval_steps=2 warmup_steps=0 learning_rate=0.01 load_best_model_at_end=true
            trainer = make_trainer model args tokens eval=parts.test
            train trainer curve=false
            """, file: "<command line>")
        let out = output()
        #expect(out.contains("held-out rows: tokenized 2 rows (default mode): "))
        #expect(out.contains("6 rows, 2 optimizer steps per epoch, 4 steps in all; validation loss on 2 held-out rows every 2 steps"))
        #expect(out.contains("Step | Training Loss | Validation Loss"))
        let rows = out.split(separator: "\n").filter { $0.hasPrefix("   ") && $0.contains(" | ") }
        #expect(rows.count == 4 && rows[0].hasSuffix("| No log") && !rows[1].contains("No log"), "\(rows)")
        let trainer = try #require(Self.trainer(session)).trainer
        #expect(out.contains("loaded the best adapter: step \(try #require(trainer.state.best_global_step))"))
        #expect(trainer.state.eval_history.count == 2)

        // what a hurried person types
        #expect(errorText(session, "a2 = training_args output_dir=/tmp/x early_stopping_patience=2\nt2 = make_trainer model a2 tokens")
                .contains("early_stopping_patience=2 needs held-out rows to evaluate"))
        try session.run("ft = format_prompts parts.test template=\"\(Self.chatml)\"\nnb = tokenize_dataset ft tok mode=notebook max_length=128", file: "<command line>")
        #expect(errorText(session, "t3 = make_trainer model args tokens eval=nb").contains("a validation loss needs the same tokenization"))
        #expect(errorText(session, "t4 = make_trainer model args tokens eval=cfg").contains("eval= takes a Dataset or a TokenizedDataset, not a LoraConfig"))
        try session.run("t5 = make_trainer model args tokens eval=parts.train", file: "<command line>")
        #expect(output().contains("warning: 6 of the 6 held-out rows are also training rows"))
    }

    /// What each row trains on (issue 19): show_tokens brackets the trained tokens; a row whose answer max_length cut
    /// away stops tokenize_dataset in default mode (allow_empty=true keeps it, with a warning); a training template
    /// other than the model's own is named at make_trainer.
    @Test func showTokensAndTheRowsThatTrainOnNothing() throws {
        let (session, output) = try Self.tinySession()
        let dir = Self.scratch()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = String(repeating: "Which enzyme deficiency explains these findings in the patient? ", count: 4)
        let rows: [[String: String]] = [["Open-ended Verifiable Question": "Which vitamin prevents scurvy?", "Ground-True Answer": "Vitamin C"],
                                        ["Open-ended Verifiable Question": long, "Ground-True Answer": "Lactase"]]
        try JSONSerialization.data(withJSONObject: rows).write(to: dir.appendingPathComponent("rows.json"))
        try session.run("""
            data = load_dataset "\(dir.path)/rows.json"
            tokens = tokenize_dataset data tok mode=default template=chatml max_length=512
            show_tokens tokens row=0
            """, file: "<command line>")
        let shown = output()
        #expect(shown.contains("tokenized 2 rows (default mode): "))
        #expect(shown.contains("trained (") && shown.contains("%), 0 truncated"))
        #expect(shown.contains("row 0 of 2 (default mode): "))
        #expect(shown.contains("<|im_start|>assistant\n[The answer is Vitamin C.<|im_end|>"), "\(shown)")
        #expect(!shown.contains("\u{1B}["))   // no colour in recorded output

        // max_length between the two prompts' lengths: the long row keeps its prompt and loses its answer
        let error = errorText(session, "cut = tokenize_dataset data tok mode=default template=chatml max_length=40")
        #expect(error.contains("row 1 (1 of 2) lost the whole answer to max_length=40: it trains on nothing"), "\(error)")
        #expect(error.contains("allow_empty=true"))
        try session.run("cut = tokenize_dataset data tok mode=default template=chatml max_length=40 allow_empty=true\nshow_tokens cut row=1",
                        file: "<command line>")
        let kept = output()
        #expect(kept.contains("warning: row 1 (1 of 2) lost the whole answer"))
        #expect(kept.contains("truncated to max_length 40, answers as \"The answer is ….\"\nwarning: the end of turn is trained in 1 of 2 rows"), "\(kept)")
        #expect(kept.contains("row 1 of 2 (default mode): 40 tokens, 0 trained (in [brackets]), cut at max_length 40"))
        #expect(kept.contains("warning: nothing in this row is trained"))

        // trained with another family's template than the model's own (ChatML): make_trainer says where they part
        try session.run("""
            cfg = lora_config r=4 lora_alpha=8 lora_dropout=0
            apply_lora model cfg
            z = tokenize_dataset data tok mode=default template=zephyr max_length=512
            args = training_args output_dir="\(dir.path)/out" max_steps=1
            t1 = make_trainer model args z
            t2 = make_trainer model args tokens
            """, file: "<command line>")
        let made = output()
        #expect(made.components(separatedBy: "warning: row 0's prompt as trained and as ask gives it to this model differ at token 0").count == 2, "\(made)")
        #expect(made.contains("training has \"<|user|>\\n") && made.contains("ask has \"<|im_start|>user\\n"), "\(made)")
    }

    @Test func badArgumentsGiveClearErrorsWithACaret() throws {
        let (session, _) = try Self.tinySession()
        let lr = errorText(session, "args = training_args output_dir=/tmp/x learning_rate=-1")
        #expect(lr.contains("learning_rate must be a finite number >= 0, got -1"))
        #expect(lr.contains("^"))
        let r = errorText(session, "cfg = lora_config r=0")
        #expect(r.hasPrefix("<command line>:1:21: error: r must be a positive integer, got 0"))
        #expect(r.contains("\n  cfg = lora_config r=0\n                      ^"))
        let target = errorText(session, "cfg = lora_config target_modules=[\"q_proj\", \"qkv_proj\"]")
        #expect(target.contains("target module \"qkv_proj\" matches no module"))
        let noAdapter = errorText(session, """
            data = load_dataset "\(Self.medqa)"
            texts = format_prompts data
            tokens = tokenize_dataset texts tok
            args = training_args output_dir=/tmp/x
            trainer = make_trainer model args tokens
            """)
        #expect(noAdapter.contains("the model has no LoRA adapter to train"))
        #expect(noAdapter.contains("apply_lora"))
        let empty = errorText(session, """
            data = load_dataset "\(Self.medqa)"
            nothing = select data 0 0
            tokens = tokenize_dataset nothing tok
            """)
        #expect(empty.contains("the dataset is empty"))
        #expect(empty.contains("^"))
        let unformatted = errorText(session, "data = load_dataset \"\(Self.medqa)\"\ntokens = tokenize_dataset data tok")
        #expect(unformatted.contains("format_prompts"))
    }

    static let smolLM2 = Repository.smolLM2

    @Test(.enabled(if: smolLM2 != nil, Comment(rawValue: Repository.smolLM2Absent)))
    func applyLoraPrintsPeftsLineForSmolLM2() throws {
        let url = try #require(Self.smolLM2)
        let base = try LlamaModel.load(gguf: url)
        let (session, output) = NotebookFixtures.session()
        session.set("model", .object(ModelObject(base: base, source: "smollm2", tokenizer: nil)))
        try session.run("cfg = lora_config\napply_lora model cfg")
        // peft 0.21 on SmolLM2-135M with the notebook's config (r=16, alpha=32, seven targets).
        #expect(output() == "trainable params: 4,884,480 || all params: 139,399,488 || trainable%: 3.5039\n")
    }
}

/// Replays Fixtures/train-tiny.mednb with `--check` on the tiny random model.
@Suite struct TrainingNotebookReplayTests {
    @Test func trainTinyNotebookReplaysCleanly() throws {
        let (session, _) = try TrainingVerbsTests.tinySession()
        session.directory = Repository.root
        defer { try? FileManager.default.removeItem(atPath: "/tmp/medrepl-train-tiny-notebook") }
        let doc = try NotebookDocument.load(path: NotebookFixtures.fixture("train-tiny.mednb").path)
        var options = NotebookRunOptions()
        options.check = true
        var log = ""
        let report = try NotebookRunner(document: doc, name: "train-tiny.mednb", session: session, options: options, log: { log += $0 }).run()
        #expect(report.exitStatus == 0, "\(log)")
        #expect(report.diffs.isEmpty, "\(log)")
        #expect(log.hasSuffix("train-tiny.mednb: 3 cells checked, 0 differ - ok\n"), "\(log)")
    }
}
