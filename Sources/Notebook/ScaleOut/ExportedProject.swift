import Foundation
import NotebookFormat
import Support
import Training

/// The project `export_training` writes: train.py (ExportedProject+Script.swift), run_config.json, the data file,
/// the initial adapter, launch.sh with configs/ with accelerate configurations for one GPU, DDP, FSDP, DeepSpeed ZeRO-2 and the
/// CPU, the versions it was checked with, and a README.
///
/// ```swift
/// let files = try ExportedProject.write(export, to: URL(fileURLWithPath: "outputs/medical-lora-gpu"), shownAs: "outputs/medical-lora-gpu")
/// ```
enum ExportedProject {
    /// The versions the exported script was checked with here (CPU torch; on a GPU machine take the CUDA wheel of
    /// the same torch version).
    static let requirements = """
    # Checked with these versions (medrepl's tests run train.py with them on the CPU). On a GPU machine install the
    # CUDA build of the same torch: pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128
    torch==2.13.0
    transformers==5.24.0
    peft==0.21.2
    accelerate==1.15.0
    datasets==5.2.0
    safetensors==0.8.0
    tokenizers==0.23.3
    gguf==0.19.0            # only to read a .gguf model
    # deepspeed             # only for launch.sh zero2 (pip install deepspeed on the GPU machine)

    """

    static let launchScript = #"""
    #!/usr/bin/env bash
    # Launches train.py: bash launch.sh [one-gpu|ddp|fsdp|zero2|torchrun|cpu] [PROCESSES] [train.py options...]
    #   one-gpu            one process on one GPU (or the CPU when there is none)
    #   ddp N              N processes, one per GPU, each with a copy of the model (DistributedDataParallel)
    #   fsdp N             N processes sharding the model, gradients and optimizer state (FSDP)
    #   zero2 N            N processes with DeepSpeed ZeRO stage 2 (optimizer state and gradients sharded)
    #   torchrun N         the same as ddp, launched by torchrun instead of accelerate
    #   cpu N              N processes on this machine's CPU (torch.distributed with the gloo backend): a check
    # N defaults to the number of GPUs (2 for cpu). Several machines: see README.md.
    set -euo pipefail
    cd "$(dirname "$0")"
    how=${1:-one-gpu}; [ $# -gt 0 ] && shift
    n=""
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then n=$1; shift; fi
    gpus() { python -c "import torch; print(max(torch.cuda.device_count(), 1))"; }
    case "$how" in
        one-gpu)  exec accelerate launch --config_file configs/one_gpu.yaml train.py "$@" ;;
        ddp)      exec accelerate launch --config_file configs/ddp.yaml --num_processes "${n:-$(gpus)}" train.py "$@" ;;
        fsdp)     exec accelerate launch --config_file configs/fsdp.yaml --num_processes "${n:-$(gpus)}" train.py "$@" ;;
        zero2)    exec accelerate launch --config_file configs/deepspeed_zero2.yaml --num_processes "${n:-$(gpus)}" train.py "$@" ;;
        torchrun) exec torchrun --nproc_per_node "${n:-$(gpus)}" train.py "$@" ;;
        # `accelerate launch --cpu` starts one process unless MPI is set up; the multi-process launcher starts N, and
        # train.py asks for the CPU when there is no GPU, so they join over gloo (accelerate's MULTI_CPU)
        cpu)      exec accelerate launch --multi_gpu --num_processes "${n:-2}" --num_machines 1 --mixed_precision no --dynamo_backend no train.py "$@" ;;
        *) echo "usage: bash launch.sh [one-gpu|ddp|fsdp|zero2|torchrun|cpu] [PROCESSES] [train.py options...]" >&2; exit 2 ;;
    esac

    """#

    /// accelerate's configuration files (`accelerate launch --config_file configs/NAME`), and DeepSpeed's.
    static func accelerateConfigs(bf16: Bool) -> [(name: String, text: String)] {
        let precision = bf16 ? "bf16" : "'no'"
        let common = "compute_environment: LOCAL_MACHINE\ndebug: false\nmachine_rank: 0\nnum_machines: 1\nmain_training_function: main\n"
            + "rdzv_backend: static\nsame_network: true\n"
        return [
            ("one_gpu.yaml", common + "distributed_type: 'NO'\nnum_processes: 1\nmixed_precision: \(precision)\nuse_cpu: false\n"),
            ("ddp.yaml", common + "distributed_type: MULTI_GPU\nnum_processes: 8\ngpu_ids: all\nmixed_precision: \(precision)\nuse_cpu: false\n"),
            ("fsdp.yaml", common + """
                distributed_type: FSDP
                num_processes: 8
                mixed_precision: \(precision)
                use_cpu: false
                fsdp_config:
                  fsdp_version: 1
                  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP
                  fsdp_transformer_layer_cls_to_wrap: LlamaDecoderLayer
                  fsdp_sharding_strategy: FULL_SHARD
                  fsdp_backward_prefetch: BACKWARD_PRE
                  fsdp_forward_prefetch: false
                  fsdp_state_dict_type: SHARDED_STATE_DICT
                  fsdp_offload_params: false
                  fsdp_cpu_ram_efficient_loading: true
                  fsdp_sync_module_states: true
                  fsdp_use_orig_params: true

                """),
            ("deepspeed_zero2.yaml", common + """
                distributed_type: DEEPSPEED
                num_processes: 8
                use_cpu: false
                deepspeed_config:
                  deepspeed_config_file: configs/ds_zero2.json
                  zero3_init_flag: false

                """),
            ("ds_zero2.json", """
                {
                  "bf16": {"enabled": "auto"},
                  "fp16": {"enabled": "auto"},
                  "zero_optimization": {"stage": 2, "overlap_comm": true, "contiguous_gradients": true,
                                        "reduce_bucket_size": "auto", "allgather_bucket_size": 500000000},
                  "gradient_accumulation_steps": "auto",
                  "gradient_clipping": "auto",
                  "train_batch_size": "auto",
                  "train_micro_batch_size_per_gpu": "auto"
                }

                """),
        ]
    }

    /// Writes the project into `directory` in one atomic folder write (files already there, such as a returned
    /// output/, stay); returns the names written, for the summary.
    @discardableResult
    static func write(_ export: TrainingExport, to directory: URL, shownAs shown: String) throws -> [String] {
        let bf16 = (export.config["training_args"] as? [String: Any?])?["bf16"] as? Bool ?? false
        return try AtomicFolder.write(to: directory, what: "the exported project") { folder in
            func put(_ text: String, _ name: String, executable: Bool = false) throws {
                let url = folder.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try AtomicFile.write(Data(text.utf8), to: url, permissions: executable ? 0o755 : 0o644)
            }
            try put(trainScript, "train.py")
            try put(JSONText.encode(export.config) + "\n", "run_config.json")
            try put(requirements, "requirements.txt")
            try put(launchScript, "launch.sh", executable: true)
            for (name, text) in accelerateConfigs(bf16: bf16) { try put(text, "configs/" + name) }
            try put(readme(export, shown: shown), "README.md")
            let adapterFolder = folder.appendingPathComponent("initial_adapter")
            try FileManager.default.createDirectory(at: adapterFolder, withIntermediateDirectories: true)
            try export.initialAdapter.writeFiles(into: adapterFolder)
            let data = folder.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            for (url, name) in export.dataFiles {
                try FileSystemError.attempt("cannot copy the data file", path: url.path) {
                    try FileManager.default.copyItem(at: url, to: data.appendingPathComponent(name))
                }
            }
            return ["train.py", "run_config.json", "initial_adapter/"] + export.dataFiles.map { "data/" + $0.name }
                + ["launch.sh", "configs/", "requirements.txt", "README.md"]
        }
    }

    /// README.md: what was exported, how to run it on one GPU, several, or several machines, what changes with the
    /// model's size, and the way back into medrepl.
    static func readme(_ e: TrainingExport, shown: String) -> String {
        let args = e.config["training_args"] as? [String: Any?] ?? [:]
        func value(_ name: String) -> String { args[name].flatMap { $0 }.map { "\($0)" } ?? "-" }
        let modelPart = e.config["model"] as? [String: Any?] ?? [:]
        let hub = modelPart["hub_id"].flatMap { $0 as? String }
        let modelNote: String
        if modelPart["folder"] != nil {
            modelNote = "The model is read from `\(e.modelFile)` on this machine. On another machine copy it there (the same path), "
                + "or give `--model` a copy's path" + (hub.map { " or the hub id `\($0)` (for smollm2 the hub's weights are bf16, not the Q4_1 blocks medrepl used, so the numbers differ slightly)" } ?? "") + "."
        } else {
            modelNote = "The model is the hub's `\(hub ?? e.modelName)`; the GPU machine downloads it (log in with `huggingface-cli login` for gated models)."
        }
        return """
        # A medrepl training run, exported for transformers + peft + accelerate

        Exported by medrepl \(MedreplVersion.string) from `\(e.config["exported_from"].flatMap { $0 } ?? "the shell")`: LoRA on \
        `\(e.modelName)`, \(e.rowCount) rows in \(e.mode) mode (max_length \(e.maxLength)), \(e.steps) optimizer steps here \
        (batch \(value("per_device_train_batch_size")) x accumulation \(value("gradient_accumulation_steps")), learning rate \
        \(value("learning_rate")), seed \(value("seed"))).

        - `train.py` does the notebook's work with the settings in `run_config.json`: it loads the model and its tokenizer, starts \
        LoRA from medrepl's adapter in `initial_adapter/`, reads the rows from `data/` (or the hub), formats and tokenizes them \
        as medrepl did and checks that the token ids are the same, trains with transformers' Trainer in medrepl's data order, \
        and saves the adapter, the tokenizer and `run.json` (what ran, where, with which versions, and every logged loss) in `output/`.
        - \(modelNote)
        - `requirements.txt` pins the versions this was checked with.

        ## Run it

        ```sh
        pip install -r requirements.txt          # on a GPU machine: the CUDA build of torch first (see requirements.txt)
        python train.py                          # one process: a GPU when there is one, else the CPU
        bash launch.sh ddp 8                     # 8 GPUs, DistributedDataParallel (configs/ddp.yaml)
        bash launch.sh fsdp 8                    # 8 GPUs, the model sharded (FSDP, configs/fsdp.yaml)
        bash launch.sh zero2 8                   # 8 GPUs, DeepSpeed ZeRO-2 (pip install deepspeed; configs/deepspeed_zero2.yaml)
        bash launch.sh torchrun 8                # 8 GPUs, DDP launched by torchrun
        bash launch.sh cpu 2                     # 2 processes on this CPU (gloo): a check that the distributed run works
        ```

        Several machines: run on each `accelerate launch --config_file configs/ddp.yaml --num_machines M --machine_rank R \
        --main_process_ip HOST --main_process_port 29500 --num_processes TOTAL train.py` (or `torchrun --nnodes M --node_rank R \
        --rdzv_endpoint HOST:29500 --nproc_per_node G train.py`).

        Options of train.py: `--set NAME=VALUE` changes a training argument with transformers' name (`--set num_train_epochs=3`), \
        `--model` trains another model (a hub id, a folder or a .gguf; the initial adapter and the token check are then left out), \
        `--dtype bfloat16` holds the base weights in bf16, `--output DIR` puts the result elsewhere.

        ## Batch size, processes and the same run

        Each optimizer step sees per_device_train_batch_size x gradient_accumulation_steps x processes rows. With N processes keep \
        the global batch by dividing the accumulation by N (`--set gradient_accumulation_steps=1` on 4 GPUs for this run's 1 x 4), \
        or keep the accumulation and let the global batch grow (then consider a larger learning rate). The loss is normalised by \
        the trained tokens of the whole global batch (transformers' `average_tokens_across_devices`), so the same global batch \
        gives the same losses on any number of processes. LoRA dropout draws its masks from torch's generator, not medrepl's, \
        so with lora_dropout > 0 the losses follow medrepl's closely but not exactly; with 0 they agree to rounding.

        ## What changes with the model's size

        - Memory per GPU: the frozen weights (2 bytes a parameter in bf16, 4 in f32), the LoRA weights with their gradients and \
        AdamW moments (16 bytes a trainable parameter), and the activations (grow with batch x max_length x layers x hidden).
        - 1B (TinyLlama, Llama-3.2-1B): one GPU of 24 GB with `--dtype bfloat16 --set bf16=true`; raise \
        per_device_train_batch_size (8-16 at max_length 512) and lower the accumulation to keep the global batch.
        - 3B-8B: `--dtype bfloat16 --set bf16=true --set gradient_checkpointing=true`; 8B fits one 80 GB GPU with LoRA; DDP \
        replicates the model on every GPU, FSDP or ZeRO-2 shard what is trained (ZeRO-2) or everything (FSDP) when it does not fit.
        - The whole medical-o1-verifiable-problem set (about 40,000 rows): export again with `-p rows=40000` (and the dataset's \
        hub id or file), or `--set num_train_epochs=...` here.

        ## Back in medrepl

        ```
        model = load_model \(e.modelName)
        load_adapter model \(shown)/output
        show model                 # the run's run.json: where and how it trained
        cmp = compare model data protocol=auto train_rows=\(e.rowCount)
        ```

        """
    }
}
