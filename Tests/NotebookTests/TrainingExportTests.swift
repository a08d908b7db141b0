import Foundation
import Language
import Notebook
import NotebookFormat
import Support
import TestSupport
import Testing
import Training

// export_training and `medrepl export-training` (docs/scaling.md): the project it writes, the rows it rebuilds from
// the data file, the settings it refuses, and, where the reference Python environment is present (torch,
// transformers, peft and accelerate: MEDREPL_REFERENCE_PYTHON or <repo>/.venv-reference), the exported train.py run
// by CPU torch: the same losses as medrepl's own run, alone and as two processes (torch.distributed over gloo), and
// an adapter that comes back into medrepl with peft's logits.
//
// The model is the training tests' tiny random Llama with the tiny byte-level BPE vocabulary (600 tokens, ChatML),
// written once as a Hugging Face folder so that transformers can load it; SmolLM2 runs too where it is present.
@Suite(.serialized) struct TrainingExportTests {
    static let medqa = Repository.url("data/medqa_small.json").path

    // MARK: the reference Python environment

    /// The Python with torch, transformers, peft and accelerate, or nil (the tests that run train.py then skip).
    static let python: URL? = {
        let env = ProcessInfo.processInfo.environment
        let candidate = env["MEDREPL_REFERENCE_PYTHON"].map { URL(fileURLWithPath: $0) } ?? Repository.url(".venv-reference/bin/python")
        guard FileManager.default.isExecutableFile(atPath: candidate.path),
              let r = try? NotebookFixtures.run(candidate, ["-c", "import torch, transformers, peft, accelerate"], timeout: 120),
              r.status == 0 else { return nil }
        return candidate
    }()
    static let pythonAbsent = "no Python with torch, transformers, peft and accelerate (set MEDREPL_REFERENCE_PYTHON or make .venv-reference: tools/fixtures/requirements.txt)"

    /// Runs `arguments` (train.py, launch.sh) with the reference Python's folder first on PATH; fails the test with
    /// its output when it fails.
    static func runReference(_ executable: URL, _ arguments: [String], timeout: Double = 600) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = python!.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["HF_HUB_OFFLINE"] = "1"; env["TOKENIZERS_PARALLELISM"] = "false"; env["OMP_NUM_THREADS"] = "1"
        let r = try NotebookFixtures.run(executable, arguments, environment: env, timeout: timeout)
        guard r.status == 0 else { throw SpawnFailure("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited \(r.status):\n\(r.out)\n\(r.err)") }
        return r.out + r.err
    }
    struct SpawnFailure: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }

    // MARK: the tiny model as a folder transformers loads

    private static let lock = NSLock()
    nonisolated(unsafe) private static var folder: URL?

    /// The tiny random Llama with tiny-bpe's tokenizer, written once by export_model (config.json, model.safetensors,
    /// tokenizer files).
    static func tinyFolder() throws -> URL {
        lock.lock(); defer { lock.unlock() }
        if let folder { return folder }
        let (session, _) = try TrainingVerbsTests.tinySession()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-export-tiny-\(UUID().uuidString)")
        try session.run("export_model model \"\(url.path)\"")
        // room for Llama-3.2's long system block in byte-level tokens (the weights do not depend on it)
        let configURL = url.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["max_position_embeddings"] = 512
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: configURL)
        // the tokenizer came from the tiny-bpe fixture's files, not from a model folder: put them beside the weights
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
            try FileManager.default.copyItem(at: TrainingVerbsTests.fixtures.appendingPathComponent("tiny-bpe/" + name), to: url.appendingPathComponent(name))
        }
        folder = url
        // shared by the tests of this process: removed when the process ends
        atexit { if let folder = TrainingExportTests.folder { try? FileManager.default.removeItem(at: folder) } }
        return url
    }

    /// A session with `model` loaded from `model` (a folder or a .gguf), LoRA on, rows 0..<rows of medqa_small
    /// tokenized in `mode`, training arguments and a trainer.
    static func prepared(model: String, mode: String, rows: Int = 8, steps: Int = 10, accumulation: Int = 2, batch: Int = 1,
                         maxLength: Int = 96, heldOut: Int = 0, template: String = "chatml", extra: String = "",
                         output: URL) throws -> (Session, () -> String) {
        let (session, out) = NotebookFixtures.session()
        let texts = mode == "notebook" ? "texts = format_prompts part template=\"\(TrainingVerbsTests.chatml)\"" : ""
        let data = mode == "notebook" ? "texts" : "part template=\(template) answer_format=sentence"
        try session.run("""
            model = load_model "\(model)"
            configure_tokenizer model pad="eos" padding_side=right
            cfg = lora_config r=4 lora_alpha=8 lora_dropout=0
            apply_lora model cfg
            data = load_dataset "\(medqa)"
            part = select data start=0 end=\(rows)
            \(texts)
            tokens = tokenize_dataset \(data) model mode=\(mode) max_length=\(maxLength)
            held = select data last=\(heldOut)
            args = training_args output_dir="\(output.path)" max_steps=\(steps) logging_steps=1 per_device_train_batch_size=\(batch) gradient_accumulation_steps=\(accumulation) warmup_steps=2 learning_rate=0.005 \(extra)
            trainer = make_trainer model args tokens\(heldOut > 0 ? " eval=held" : "")
            """, file: "<command line>")
        return (session, out)
    }

    static func trainer(_ session: Session) throws -> TrainerObject {
        guard case .object(let o)? = session.value(named: "trainer"), let t = o as? TrainerObject else { throw SpawnFailure("no trainer") }
        return t
    }

    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-export-\(name)-\(UUID().uuidString)")
    }

    /// The losses train.py logged (run.json's log_history), by step; the evaluation losses by step.
    static func returnedLosses(_ output: URL) throws -> (train: [Int: Double], eval: [Int: Double], run: [String: Any]) {
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("run.json"))) as! [String: Any]
        var train: [Int: Double] = [:], eval: [Int: Double] = [:]
        for entry in run["log_history"] as? [[String: Any]] ?? [] {
            guard let step = entry["step"] as? Int else { continue }
            if let loss = entry["loss"] as? Double { train[step] = loss }
            if let loss = entry["eval_loss"] as? Double { eval[step] = loss }
        }
        return (train, eval, run)
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    // MARK: the project (no Python needed)

    @Test func exportWritesTheProjectAndTrainsNothing() throws {
        let dir = Self.scratch("project"), out = Self.scratch("out")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (session, output) = try Self.prepared(model: try Self.tinyFolder().path, mode: "notebook", rows: 6, steps: 3, output: out)
        try session.run("export_training trainer \"\(dir.path)\"")
        let said = output()
        #expect(said.contains("exported the training run to \(dir.path): train.py, run_config.json, initial_adapter/, data/medqa_small.json, launch.sh, configs/, requirements.txt, README.md"), "\(said)")
        #expect(said.contains("6 rows (notebook mode, max_length 96), 3 steps"))
        #expect(said.contains("bring it back: load_adapter MODEL \(dir.path)/output"))
        // nothing trained, nothing written where the run would write
        #expect(try Self.trainer(session).trainer.state.global_step == 0)
        #expect(!FileManager.default.fileExists(atPath: out.path))

        let config = try Self.json(dir.appendingPathComponent("run_config.json"))
        let data = try #require(config["data"] as? [String: Any])
        #expect((data["rows"] as? [[Int]]) == [[0, 5]])
        #expect((data["source"] as? [String: Any])?["file"] as? String == "data/medqa_small.json")
        let copied = try Data(contentsOf: dir.appendingPathComponent("data/medqa_small.json"))
        #expect(copied == (try Data(contentsOf: URL(fileURLWithPath: Self.medqa))))
        #expect((data["source"] as? [String: Any])?["sha256"] as? String == SHA256.hex(copied))
        let formatting = try #require(config["formatting"] as? [String: Any])
        #expect(formatting["mode"] as? String == "notebook")
        let parts = try #require(formatting["text"] as? [[String: String]])
        #expect(parts == [["text": "<|im_start|>user\n"], ["field": "question"], ["text": "<|im_end|>\n<|im_start|>assistant\n"],
                          ["field": "answer"], ["text": "<|im_end|>"]])
        let args = try #require(config["training_args"] as? [String: Any])
        #expect(args["max_steps"] as? Int == 3 && args["gradient_accumulation_steps"] as? Int == 2 && args["optim"] as? String == "adamw_torch")
        #expect(args["learning_rate"] as? Double == 0.005 && args["seed"] as? Int == 42)
        // medrepl's shuffled order, epoch by epoch: a permutation of the 6 rows
        let order = try #require((config["data_order"] as? [String: Any])?["epochs"] as? [[Int]])
        let expected = try Self.trainer(session).trainer.dataOrder(epoch: 0)
        #expect(order.count == 1 && order[0].sorted() == Array(0..<6) && order[0] == expected)

        // the adapter it starts from is the trainer's adapter as it is now
        let initial = try LoraAdapter.load(from: dir.appendingPathComponent("initial_adapter"), model: try Self.trainer(session).model.base.config)
        let live = try #require(try Self.trainer(session).model.lora).adapter
        #expect(initial.snapshot() == live.snapshot())
        let launch = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("launch.sh").path)
        #expect((launch[.posixPermissions] as? Int).map { $0 & 0o111 != 0 } == true)
        for name in ["one_gpu.yaml", "ddp.yaml", "fsdp.yaml", "deepspeed_zero2.yaml", "ds_zero2.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("configs/" + name).path), "\(name)")
        }
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("bash launch.sh ddp 8") && readme.contains("load_adapter model \(dir.path)/output"))
    }

    /// Every chat family's template is written out as text and fields that rebuild every row exactly (Llama-3's
    /// trims its fields: the export finds that and says so), with the held-out rows beside the training rows.
    @Test(arguments: ["chatml", "smollm2", "llama3", "llama3.2", "zephyr", "llama2"])
    func defaultModeWritesEachFamilysTemplateAsText(template: String) throws {
        let dir = Self.scratch("template")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (session, output) = try Self.prepared(model: try Self.tinyFolder().path, mode: "default", rows: 5, steps: 2, maxLength: 320,
                                                  heldOut: 3, template: template, output: Self.scratch("out"))
        try session.run("export_training trainer \"\(dir.path)\"")
        #expect(output().contains("5 rows (default mode, max_length 320) and 3 held-out rows"))
        let config = try Self.json(dir.appendingPathComponent("run_config.json"))
        let formatting = try #require(config["formatting"] as? [String: Any])
        #expect(formatting["strip"] as? Bool == ["llama3", "llama3.2", "llama2"].contains(template))   // those trim the contents
        #expect(formatting["answer_format"] as? String == "sentence")
        let prompt = try #require(formatting["prompt"] as? [[String: String]])
        #expect(prompt.filter { $0["field"] != nil } == [["field": "question"]])
        let eval = try #require(config["eval_data"] as? [String: Any])
        #expect((eval["rows"] as? [[Int]]) == [[424, 426]])   // the file's last 3 of 427
        #expect((config["training_args"] as? [String: Any])?["eval_strategy"] as? String == "steps")
    }

    @Test func settingsWithoutAnEquivalentStopTheExportAtTheirCommand() throws {
        let model = try Self.tinyFolder().path
        func refusal(_ extra: String, heldOut: Int = 2) throws -> String {
            let (session, _) = try Self.prepared(model: model, mode: "notebook", rows: 4, steps: 2, heldOut: heldOut, extra: extra, output: Self.scratch("out"))
            do { try session.run("export_training trainer \"\(Self.scratch("refused").path)\""); return "no error" } catch { return "\(error)" }
        }
        let early = try refusal("eval_steps=1 early_stopping_patience=2")
        #expect(early.contains("early_stopping_patience=2 has no equivalent without load_best_model_at_end=true"), "\(early)")
        #expect(early.contains("<command line>:10"), "the error points at training_args: \(early)")
        #expect(early.contains("add load_best_model_at_end=true"))
        // load_best_model_at_end translates: transformers needs a checkpoint at each evaluation to put the best back
        let dir = Self.scratch("best")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (session0, output0) = try Self.prepared(model: model, mode: "notebook", rows: 4, steps: 2, heldOut: 2,
                                                    extra: "eval_steps=1 save_steps=5 load_best_model_at_end=true early_stopping_patience=1",
                                                    output: Self.scratch("out"))
        try session0.run("export_training trainer \"\(dir.path)\"")
        #expect(output0().contains("note: train.py saves a checkpoint at every evaluation (save_steps=1, not 5)"))
        let args = try #require(try Self.json(dir.appendingPathComponent("run_config.json"))["training_args"] as? [String: Any])
        #expect(args["save_steps"] as? Int == 1 && args["eval_steps"] as? Int == 1 && args["load_best_model_at_end"] as? Bool == true)
        #expect(args["metric_for_best_model"] as? String == "eval_loss" && args["greater_is_better"] as? Bool == false)

        // the model's own answers are not in the data file; random weights are in no file
        let (session, _) = try TrainingVerbsTests.tinySession()
        try session.run("""
            cfg = lora_config r=2 lora_alpha=4
            apply_lora model cfg
            data = load_dataset "\(Self.medqa)"
            part = select data 0 2
            texts = format_prompts part template="\(TrainingVerbsTests.chatml)"
            tokens = tokenize_dataset texts tok mode=notebook max_length=64
            args = training_args output_dir="\(Self.scratch("out").path)" max_steps=1
            trainer = make_trainer model args tokens
            """, file: "<cell>")
        var random = "no error"
        do { try session.run("export_training trainer /tmp/never", file: "<cell>") } catch { random = "\(error)" }
        #expect(random.contains("random weights, which no file holds for train.py to load"), "\(random)")
        #expect(random.contains("export_model MODEL DIR first"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never"))
    }

    // MARK: the command line

    static let notebook = Repository.url("notebooks/finetune.mednb").path

    @Test(.enabled(if: Repository.smolLM2 != nil && NotebookFixtures.binary != nil, Comment(rawValue: Repository.smolLM2Absent + " or medrepl not built")),
          arguments: ["notebook", "default"])
    func commandLineExportsTheShippedNotebookWithoutTraining(mode: String) throws {
        let dir = Self.scratch("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try NotebookFixtures.run(NotebookFixtures.binary!, ["export-training", Self.notebook, dir.path, "-p", "rows=8", "-p", "max_length=64",
                                                                     "-p", "mode=\"\(mode)\"", "-p", "validation_rows=3"])
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        #expect(r.out.contains("stopped before `train trainer curve=false` (not run)"), "\(r.out)")
        #expect(r.out.contains("8 rows (\(mode) mode, max_length 64) and 3 held-out rows"), "\(r.out)")
        #expect(!r.out.contains("save_adapter") && !r.out.contains("| Step"), "nothing after train ran: \(r.out)")
        let config = try Self.json(dir.appendingPathComponent("run_config.json"))
        #expect(config["exported_from"] as? String == Self.notebook)
        #expect((config["model"] as? [String: Any])?["gguf_file"] as? String == Repository.smolLM2Name)
        #expect((config["lora"] as? [String: Any])?["lora_dropout"] as? Double == 0.05)
    }

    @Test(.enabled(if: NotebookFixtures.binary != nil, "medrepl not built"))
    func commandLineMistakesSayWhatToDo() throws {
        let binary = NotebookFixtures.binary!
        let none = try NotebookFixtures.run(binary, ["export-training", Self.notebook])
        #expect(none.status == 2 && none.err.contains("export-training needs a notebook and a folder"), "\(none.err)")
        let missing = try NotebookFixtures.run(binary, ["export-training", "notebooks/nope.mednb", "/tmp/x"])
        #expect(missing.status == 1 && missing.err.contains("cannot read notebooks/nope.mednb: no such file"), "\(missing.err)")
        let flag = try NotebookFixtures.run(binary, ["export-training", Self.notebook, "/tmp/x", "--parm", "rows=2"])
        #expect(flag.status == 2 && flag.err.contains("unknown option '--parm' for export-training; did you mean '--param'?"), "\(flag.err)")
        // a notebook without train: its cells run, then it says there is nothing to export
        let file = Self.scratch("no-train").appendingPathExtension("mednb")
        defer { try? FileManager.default.removeItem(at: file) }
        try "%% mednb 1\n\n%% cell one\n  $ x = 1\n".write(to: file, atomically: true, encoding: .utf8)
        let noTrain = try NotebookFixtures.run(binary, ["export-training", file.path, "/tmp/x"])
        #expect(noTrain.status == 1 && noTrain.err.contains("has no train statement"), "\(noTrain.err)")
    }

    // MARK: train.py with CPU torch (the reference environment)

    /// medrepl's own run and the exported train.py's agree step by step (LoRA dropout 0, the same initial adapter,
    /// medrepl's shuffled order), in both tokenization modes, with the held-out loss in default mode, and with a
    /// template that trims its contents (Llama-3.2's, whose long system block needs max_length 320).
    @Test(.enabled(if: python != nil, Comment(rawValue: pythonAbsent)), arguments: ["notebook", "default", "default llama3.2"])
    func trainPyLogsMedreplsLosses(run: String) throws {
        let dir = Self.scratch("same"), out = Self.scratch("out")
        defer { for u in [dir, out] { try? FileManager.default.removeItem(at: u) } }
        let mode = String(run.prefix { $0 != " " }), template = run.contains(" ") ? String(run.split(separator: " ")[1]) : "chatml"
        let (session, _) = try Self.prepared(model: try Self.tinyFolder().path, mode: mode, rows: 8, steps: 10, maxLength: template == "chatml" ? 96 : 320,
                                             heldOut: mode == "default" ? 3 : 0, template: template,
                                             extra: mode == "default" ? "eval_steps=5 load_best_model_at_end=true" : "", output: out)
        try session.run("export_training trainer \"\(dir.path)\"\ntrain trainer curve=false")
        let here = try Self.trainer(session).trainer.state
        let log = try Self.runReference(Self.python!, [dir.appendingPathComponent("train.py").path])
        #expect(log.contains("training rows: 8 rows tokenized as medrepl tokenized them"), "\(log)")
        let returned = try Self.returnedLosses(dir.appendingPathComponent("output"))
        #expect(returned.train.count == 10 && here.log_history.count == 10)
        for entry in here.log_history {
            let theirs = try #require(returned.train[entry.step], "step \(entry.step) not logged by train.py")
            #expect(abs(theirs - entry.loss) < 1e-4, "step \(entry.step): medrepl \(entry.loss), train.py \(theirs)")
        }
        // the adapter each kept (in default mode the best evaluation's) is the same
        let theirs = try LoraAdapter.load(from: dir.appendingPathComponent("output"), model: try Self.trainer(session).model.base.config)
        let mine = try #require(try Self.trainer(session).model.lora).adapter
        let worst = zip(mine.snapshot().joined(), theirs.snapshot().joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "largest difference between the adapters: \(worst)")
        if mode == "default" {
            #expect(here.eval_history.count == 2 && returned.eval.count == 2)
            for entry in here.eval_history {
                let theirs = try #require(returned.eval[entry.step])
                #expect(abs(theirs - entry.eval_loss) < 1e-4, "eval at \(entry.step): medrepl \(entry.eval_loss), train.py \(theirs)")
            }
        }
    }

    /// Two processes (accelerate's multi-process launcher, torch.distributed over gloo, each 1 row a step) give the
    /// losses of one process accumulating 2 rows; the adapter they return loads in medrepl and gives peft's logits.
    @Test(.enabled(if: python != nil, Comment(rawValue: pythonAbsent)))
    func twoProcessesGiveOneProcessesLossesAndTheAdapterComesBack() throws {
        let dir = Self.scratch("ddp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try Self.tinyFolder()
        let (session, _) = try Self.prepared(model: folder.path, mode: "notebook", rows: 8, steps: 6, accumulation: 2, output: Self.scratch("out"))
        try session.run("export_training trainer \"\(dir.path)\"")
        _ = try Self.runReference(Self.python!, [dir.appendingPathComponent("train.py").path, "--output", dir.appendingPathComponent("one").path])
        let log = try Self.runReference(URL(fileURLWithPath: "/bin/bash"), [dir.appendingPathComponent("launch.sh").path, "cpu", "2",
                                                                           "--set", "gradient_accumulation_steps=1"])
        let one = try Self.returnedLosses(dir.appendingPathComponent("one")), two = try Self.returnedLosses(dir.appendingPathComponent("output"))
        #expect(two.run["world_size"] as? Int == 2 && two.run["distributed_type"] as? String == "MULTI_CPU", "\(log)")
        #expect(one.run["world_size"] as? Int == 1)
        #expect(one.train.count == 6 && two.train.count == 6)
        for (step, loss) in one.train {
            let theirs = try #require(two.train[step])
            #expect(abs(theirs - loss) < 1e-4, "step \(step): one process \(loss), two \(theirs)")
        }

        // back in medrepl: load_adapter says where it trained, and the logits are peft's
        try session.run("back = load_model \"\(folder.path)\"\nload_adapter back \"\(dir.appendingPathComponent("output").path)\"\nshow back")
        guard case .object(let o)? = session.value(named: "back"), let back = o as? ModelObject, let lora = back.lora else {
            Issue.record("no adapter loaded"); return
        }
        // protocol=auto follows how the exported run trained, as after train in the session
        #expect(back.trainedMode == "notebook")
        let ids = [[1, 45, 300, 12, 87, 2, 9, 599]]
        let script = """
            import json, sys, torch
            from transformers import AutoModelForCausalLM
            from peft import PeftModel
            m = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(sys.argv[1], dtype=torch.float32), sys.argv[2]).eval()
            with torch.no_grad():
                print(json.dumps(m(torch.tensor(\(ids))).logits[0].flatten().tolist()))
            """
        let peft = try Self.runReference(Self.python!, ["-c", script, folder.path, dir.appendingPathComponent("output").path])
        let line = try #require(peft.split(separator: "\n").last { $0.hasPrefix("[") })
        let theirs = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [Double]
        let mine = try lora.logits(TrainingBatch(input_ids: ids, attention_mask: [[Int]](repeating: [Int](repeating: 1, count: ids[0].count), count: 1),
                                                 labels: ids))
        #expect(mine.count == theirs.count)
        let worst = zip(mine, theirs).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "largest logit difference \(worst)")
        // and the adapter moved: it is not the initial one
        let initial = try LoraAdapter.load(from: dir.appendingPathComponent("initial_adapter"), model: back.base.config)
        #expect(initial.snapshot() != lora.adapter.snapshot())
    }

    /// The same on the real model, SmolLM2 from its GGUF, in both modes (10 steps).
    @Test(.enabled(if: python != nil && Repository.smolLM2 != nil, Comment(rawValue: pythonAbsent + "; or " + Repository.smolLM2Absent)),
          arguments: ["notebook", "default"])
    func smolLM2TrainPyLogsMedreplsLosses(mode: String) throws {
        let dir = Self.scratch("smol"), out = Self.scratch("out")
        defer { for u in [dir, out] { try? FileManager.default.removeItem(at: u) } }
        let (session, _) = try Self.prepared(model: Repository.smolLM2!.path, mode: mode, rows: 10, steps: 10, accumulation: 1,
                                             maxLength: 64, template: "smollm2", output: out)
        try session.run("export_training trainer \"\(dir.path)\"\ntrain trainer curve=false")
        let here = try Self.trainer(session).trainer.state
        _ = try Self.runReference(Self.python!, [dir.appendingPathComponent("train.py").path])
        let returned = try Self.returnedLosses(dir.appendingPathComponent("output"))
        #expect(returned.train.count == 10)
        for entry in here.log_history {
            let theirs = try #require(returned.train[entry.step])
            #expect(abs(theirs - entry.loss) < 1e-3, "step \(entry.step): medrepl \(entry.loss), train.py \(theirs)")
        }
    }
}
