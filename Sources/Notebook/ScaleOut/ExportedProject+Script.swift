// train.py as export_training writes it: one fixed script that does the notebook's work with run_config.json.
// Kept as text here so that the medrepl binary carries it wherever it is copied.

extension ExportedProject {
    static let trainScript = #"""
"""The training run exported by medrepl, with transformers' Trainer, peft and accelerate.

Everything medrepl had bound is in run_config.json: the model, the data and its rows, the formatting, the
tokenization, the LoRA settings, the training arguments, the seed and the data order. This script does the
notebook's work with them: load the model and its tokenizer, wrap it with LoRA (starting from medrepl's
initial adapter in initial_adapter/), read and format the rows, tokenize them as medrepl did (and check that
it did: the token ids are compared with the ones medrepl recorded), train, and save the adapter, the tokenizer
and run.json in the output folder. medrepl loads the result with `load_adapter MODEL DIR/output`.

    python train.py                                   # one process (a GPU when there is one, else the CPU)
    bash launch.sh ddp 8                                         # several GPUs: see README.md
    python train.py --model meta-llama/Llama-3.2-1B-Instruct --set num_train_epochs=3

--set NAME=VALUE changes a training argument (transformers' names); --model trains another model (the
initial adapter and the token check are then left out, since they belong to the exported model).
"""
import argparse
import hashlib
import json
import os
import platform
import re
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import Sampler

HERE = Path(__file__).resolve().parent
# peft looks for the base model's config.json on the hub when it saves, to see whether the vocabulary grew; LoRA on the
# projections never changes it, and offline or with a GGUF model the lookup only warns
warnings.filterwarnings("ignore", message=r"(Unable to fetch remote file|Could not find a config file)")
# transformers 5 renamed gradient checkpointing to activation checkpointing; its own code still reads the old names
warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.* is deprecated", category=FutureWarning)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=str(HERE / "run_config.json"), help="the exported run (default: run_config.json here)")
    p.add_argument("--output", default=None, help="where the adapter goes (default: output/ here)")
    p.add_argument("--model", default=None, help="another model: a hub id, a folder, or a .gguf file")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                   help="the base model's weights in memory (bfloat16 halves them on a GPU; the adapter stays float32)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="change a training argument, as in --set per_device_train_batch_size=8")
    p.add_argument("--fresh-adapter", action="store_true", help="start from peft's own initialisation, not initial_adapter/")
    p.add_argument("--no-token-check", action="store_true", help="skip the comparison with medrepl's token ids")
    return p.parse_args()


def say(*parts):
    """A line from the main process, above transformers' progress bar rather than glued to its end."""
    if int(os.environ.get("RANK", "0")) == 0:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            print(*parts, flush=True)
        else:
            tqdm.write(" ".join(str(p) for p in parts))
            sys.stdout.flush()


def fail(message):
    print(f"train.py: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


# ----------------------------------------------------------------------------------------------------------
# The model and its tokenizer

def model_source(cfg, override):
    """(name or folder, extra from_pretrained arguments) for the exported model or --model."""
    if override:
        path = Path(override)
        if path.suffix == ".gguf":
            return str(path.parent), {"gguf_file": path.name}
        return override, {}
    m = cfg["model"]
    if m.get("gguf_file"):
        return m["folder"], {"gguf_file": m["gguf_file"]}
    return m.get("folder") or m["hub_id"], {}


def load_model_and_tokenizer(cfg, args):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name, extra = model_source(cfg, args.model)
    if not args.model and cfg["model"].get("folder") and not Path(name).exists():
        fail(f"the model {name} is not here; copy it (see README.md) or give --model with its hub id "
             f"({cfg['model'].get('hub_id') or 'the model it was made from'})")
    tokenizer = AutoTokenizer.from_pretrained(name, **extra)
    dtype = getattr(torch, args.dtype)
    model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype, **extra)
    if "gguf_file" in extra:
        # transformers turns a GGUF's blocks into plain float tensors on load; only a marker says "quantized"
        # (and would refuse training), so drop it: these weights train like any others
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    t = cfg["tokenizer"]
    if not args.model:
        # medrepl's tokenizer settings (configure_tokenizer): the pad token and the side
        if tokenizer.eos_token_id != t["eos_token_id"]:
            fail(f"the tokenizer's EOS is {tokenizer.eos_token_id}, medrepl's was {t['eos_token_id']}")
        tokenizer.pad_token_id = t["pad_token_id"]
    elif tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = t.get("padding_side", "right")
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def wrap_with_lora(model, cfg, args):
    from peft import LoraConfig, PeftModel, get_peft_model

    initial = HERE / cfg["initial_adapter"] if cfg.get("initial_adapter") else None
    if initial and not args.fresh_adapter and not args.model:
        say(f"LoRA: starting from medrepl's initial adapter ({initial.name}/)")
        return PeftModel.from_pretrained(model, str(initial), is_trainable=True)
    lora = cfg["lora"]
    torch.manual_seed(cfg["training_args"]["seed"])
    config = LoraConfig(r=lora["r"], lora_alpha=lora["lora_alpha"], lora_dropout=lora["lora_dropout"],
                        target_modules=lora["target_modules"], bias=lora["bias"], use_rslora=lora["use_rslora"],
                        task_type="CAUSAL_LM")
    return get_peft_model(model, config)


# ----------------------------------------------------------------------------------------------------------
# The rows: read, formatted and tokenized as medrepl did

def read_rows(source):
    """The dataset's rows in file order: the same local JSON or JSON Lines file, or a hub dataset."""
    if "file" in source:
        path = HERE / source["file"]
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):
            return json.loads(text)
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    from datasets import load_dataset

    return load_dataset(source["hub_id"], split=source.get("split", "train"))


def row_indices(ranges):
    """[[0, 199], [250, 250]] -> 0..199, 250."""
    out = []
    for first, last in ranges:
        out.extend(range(first, last + 1))
    return out


def answer_text(answer, answer_format):
    if answer_format == "sentence":
        core = answer.strip()
        if core.startswith("The answer is "):
            return core
        return "The answer is " + (core[:-1] if core.endswith(".") else core) + "."
    return answer


def render(segments, question, answer, strip):
    """A template written out by medrepl as text and fields, filled with one row."""
    fields = {"question": question.strip() if strip else question, "answer": answer.strip() if strip else answer}
    return "".join(s["text"] if "text" in s else fields[s["field"]] for s in segments)


def tokenize_notebook(tokenizer, text, max_length):
    """The original notebook: truncate and pad to max_length; DataCollatorForLanguageModeling makes the labels."""
    enc = tokenizer(text, truncation=True, max_length=max_length, padding="max_length")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def tokenize_default(tokenizer, prompt, full, max_length, end_ids):
    """The careful pipeline: the prompt is context (-100), the answer and the end of turn are trained."""
    p = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    f = tokenizer(full, add_special_tokens=True)["input_ids"]
    if len(f) <= len(p) or f[:len(p)] != p:
        raise ValueError("the chat template's prompt is not a prefix of its full text in tokens")
    if tokenizer.eos_token_id is not None and not any(t in end_ids for t in f[-2:]):
        f = f + [tokenizer.eos_token_id]
    labels = [-100] * len(p) + f[len(p):]
    return {"input_ids": f[:max_length], "labels": labels[:max_length]}


def tokenized_rows(part, rows, tokenizer, cfg):
    fmt, tok = cfg["formatting"], cfg["tokenization"]
    q_field, a_field = part["question_field"], part["answer_field"]
    out = []
    for i in row_indices(part["rows"]):
        row = rows[i]
        question, answer = row[q_field], answer_text(row[a_field], fmt["answer_format"])
        if fmt["mode"] == "notebook":
            out.append(tokenize_notebook(tokenizer, render(fmt["text"], question, answer, fmt["strip"]), tok["max_length"]))
        else:
            out.append(tokenize_default(tokenizer, render(fmt["prompt"], question, "", fmt["strip"]),
                                        render(fmt["text"], question, answer, fmt["strip"]),
                                        tok["max_length"], set(cfg["tokenizer"]["end_of_turn_ids"])))
    return out


def labels_of(example, pad_id):
    """The labels the trainer sees: the row's own, or (notebook mode) DataCollatorForLanguageModeling's: every pad id -100."""
    if "labels" in example:
        return example["labels"]
    return [-100 if t == pad_id else t for t in example["input_ids"]]


def token_digest(examples, pad_id):
    """SHA-256 of [[input_ids, labels], ...] as compact JSON: medrepl writes the same digest of its rows."""
    rows = [[e["input_ids"], labels_of(e, pad_id)] for e in examples]
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


def check_tokens(examples, expected, pad_id, what):
    got = token_digest(examples, pad_id)
    if got == expected["sha256"]:
        say(f"{what}: {len(examples)} rows tokenized as medrepl tokenized them (SHA-256 {got[:12]}...)")
        return
    for k, row in enumerate(expected["first_rows"]):
        mine = [examples[k]["input_ids"], labels_of(examples[k], pad_id)]
        if mine != [row["input_ids"], row["labels"]]:
            fail(f"{what} row {k} tokenizes to {mine[0][:12]}... here but to {row['input_ids'][:12]}... in medrepl: "
                 "the tokenizer differs (another version or file); --no-token-check trains anyway")
    fail(f"{what}: the token ids differ from medrepl's (digest {got[:12]}... against {expected['sha256'][:12]}...); "
         "--no-token-check trains anyway")


class PadToLongest:
    """The default pipeline's collator: pad each micro-batch to its longest row (pad id, mask 0, label -100)."""

    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __call__(self, rows):
        longest = max(len(r["input_ids"]) for r in rows)
        def pad(v, value):
            return v + [value] * (longest - len(v))
        return {
            "input_ids": torch.tensor([pad(r["input_ids"], self.pad_id) for r in rows]),
            "attention_mask": torch.tensor([pad([1] * len(r["input_ids"]), 0) for r in rows]),
            "labels": torch.tensor([pad(r["labels"], -100) for r in rows]),
        }


class ExportedOrder(Sampler):
    """medrepl's data order: its seeded permutation of each epoch (or file order), epoch after epoch."""

    def __init__(self, n, epochs):
        self.n, self.epochs, self.epoch = n, epochs, 0

    def __iter__(self):
        order = list(range(self.n)) if self.epochs is None else self.epochs[self.epoch % len(self.epochs)]
        self.epoch += 1
        return iter(order)

    def __len__(self):
        return self.n


# ----------------------------------------------------------------------------------------------------------
# Training

def training_arguments(cfg, args, output):
    from transformers import TrainingArguments

    values = dict(cfg["training_args"])
    for item in args.set:
        name, _, text = item.partition("=")
        if not _ or name not in TrainingArguments.__dataclass_fields__:
            fail(f"--set {item}: give NAME=VALUE with a name of transformers' TrainingArguments")
        try:
            values[name] = json.loads(text)
        except json.JSONDecodeError:
            values[name] = text
    if "activation_checkpointing" in TrainingArguments.__dataclass_fields__:
        # transformers 5's names for gradient checkpointing (run_config.json and --set keep the widely known ones)
        for old, new in (("gradient_checkpointing", "activation_checkpointing"),
                         ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs")):
            if old in values:
                values.setdefault(new, values.pop(old))
    if not torch.cuda.is_available():
        # no GPU: the CPU, and with several processes torch.distributed over gloo (accelerate's MULTI_CPU); without
        # use_cpu each process would train alone
        values.setdefault("use_cpu", True)
    # every LoRA weight takes part in every forward pass: DDP need not search the graph for unused ones each step
    values.setdefault("ddp_find_unused_parameters", False)
    values["output_dir"] = str(output)
    return TrainingArguments(report_to=[], remove_unused_columns=False, label_names=["labels"], **values), values


def main():
    args = parse_args()
    cfg = json.loads(Path(args.config).read_text())
    output = Path(args.output) if args.output else HERE / "output"
    from transformers import DataCollatorForLanguageModeling, EarlyStoppingCallback, Trainer, TrainerCallback, set_seed

    set_seed(cfg["training_args"]["seed"])
    model, tokenizer = load_model_and_tokenizer(cfg, args)
    model = wrap_with_lora(model, cfg, args)
    rows = read_rows(cfg["data"]["source"])
    train_rows = tokenized_rows(cfg["data"], rows, tokenizer, cfg)
    eval_rows = tokenized_rows(cfg["eval_data"], read_rows(cfg["eval_data"]["source"]), tokenizer, cfg) if cfg.get("eval_data") else None
    if not args.model and not args.no_token_check:
        check_tokens(train_rows, cfg["data"]["check"], tokenizer.pad_token_id, "training rows")
        if eval_rows is not None:
            check_tokens(eval_rows, cfg["eval_data"]["check"], tokenizer.pad_token_id, "held-out rows")

    if cfg["formatting"]["mode"] == "notebook":
        collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm=False)
    else:
        collator = PadToLongest(tokenizer.pad_token_id)
    order = cfg["data_order"]
    epochs = None if order == "file" else order["epochs"]

    class ExportedTrainer(Trainer):
        def _get_train_sampler(self, train_dataset=None):
            return ExportedOrder(len(train_rows), epochs)

    log = []

    class Record(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **kwargs):
            if logs:
                log.append(dict(logs, step=state.global_step))
                if "loss" in logs:
                    say(f"step {state.global_step}: loss {logs['loss']:.6f}")

    targs, values = training_arguments(cfg, args, output)
    callbacks = [Record()]
    if cfg.get("early_stopping"):
        callbacks.append(EarlyStoppingCallback(**cfg["early_stopping"]))
    trainer = ExportedTrainer(model=model, args=targs, train_dataset=train_rows, eval_dataset=eval_rows,
                              data_collator=collator, callbacks=callbacks)
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if trainer.accelerator.num_processes != launched:
        fail(f"{launched} processes were launched but accelerate joined {trainer.accelerator.num_processes}: each would train alone")
    started = time.time()
    result = trainer.train()
    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(output))
    trainer.save_state()
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(output))
        import accelerate
        import peft
        import transformers

        record = {
            "exported_from": cfg["exported_from"],
            "exported_by": "medrepl " + cfg["medrepl_version"],
            "model": args.model or cfg["model"]["name"],
            "lora": cfg["lora"],
            "formatting": {"mode": cfg["formatting"]["mode"], "answer_format": cfg["formatting"]["answer_format"]},
            "initial_adapter": None if args.fresh_adapter or args.model else cfg["initial_adapter"],
            "command": [Path(sys.argv[0]).name] + sys.argv[1:],
            "training_args": values,
            "world_size": trainer.accelerator.num_processes,
            "distributed_type": str(trainer.accelerator.distributed_type).split(".")[-1],
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})",
            "versions": {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__, "accelerate": accelerate.__version__},
            "train_rows": len(train_rows),
            "global_step": result.global_step,
            "train_loss": result.training_loss,
            "runtime_seconds": round(time.time() - started, 3),
            "log_history": log,
        }
        (output / "run.json").write_text(json.dumps(record, indent=2) + "\n")
        say(f"saved the adapter, the tokenizer and run.json to {output}: load it in medrepl with "
            f"`load_adapter MODEL {output}`")


if __name__ == "__main__":
    main()
"""#
}
