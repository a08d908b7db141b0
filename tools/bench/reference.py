#!/usr/bin/env python3
"""The reference side of medrepl's benchmark: transformers + peft on the same work.

Each workload prints one JSON object on the last line of stdout. Run by tools/bench/run.sh, which
runs medrepl and this script interleaved and compares them. Not a test; never imported by medrepl.

  python reference.py w1 --model-gguf models/SmolLM2-135M-Instruct.Q4_1.gguf --data ROWS.json
  python reference.py w2 ... (pad to longest; --autocast bf16 optional)
  python reference.py w3 --batch 1 --dtype f32
  python reference.py w4 --config tinyllama
"""
import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time

import torch

LLAMA3_TEMPLATE = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{question}<|eot_id|>"
                   "<|start_header_id|>assistant<|end_header_id|>\n\n{answer}<|eot_id|>")
QUESTION, ANSWER = "Open-ended Verifiable Question", "Ground-True Answer"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 ** 2)


def load_gguf(path, dtype=torch.float32):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    folder = tempfile.mkdtemp(prefix="medrepl-bench-")
    link = os.path.join(folder, os.path.basename(path))
    os.symlink(os.path.abspath(path), link)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=os.path.basename(path))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=os.path.basename(path), dtype=dtype)
    shutil.rmtree(folder)
    return model, tok


def formatted_rows(path, rows):
    data = json.load(open(path))[:rows]
    out = []
    for row in data:
        q, a = row.get(QUESTION, ""), row.get(ANSWER, "")
        if len(q) < 10 or len(a) < 2:
            continue
        out.append(LLAMA3_TEMPLATE.format(question=q, answer=a))
    return out


class OrderedTrainerMixin:
    """Iterates the data in the order given (the benchmark's fixed order), so both sides see the same batches."""

    def _get_train_sampler(self, *args, **kwargs):
        return torch.utils.data.SequentialSampler(self.train_dataset)


def train(args, pad_to_longest):
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, TrainerCallback

    torch.manual_seed(args.seed)
    model, tok = load_gguf(args.model_gguf)
    tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_TARGETS,
                                             bias="none", task_type="CAUSAL_LM"))
    texts = formatted_rows(args.data, args.rows)
    if args.order:
        order = json.load(open(args.order))
        texts = [texts[i] for i in order]
    ds = Dataset.from_dict({"text": texts})

    def tokenize(batch):
        if pad_to_longest:
            return tok(batch["text"], truncation=True, max_length=512)
        return tok(batch["text"], truncation=True, padding="max_length", max_length=512)

    ds = ds.map(tokenize, batched=True, remove_columns=["text"])
    real = sum(sum(m) for m in ds["attention_mask"])
    fed = sum(len(m) for m in ds["attention_mask"]) if not pad_to_longest else None
    collator = DataCollatorForLanguageModeling(tokenizer=tok, mlm=False)
    losses = []

    class Record(TrainerCallback):
        def on_log(self, _args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append({"step": state.global_step, "loss": logs["loss"]})

    out = tempfile.mkdtemp(prefix="medrepl-bench-out-")
    targs = TrainingArguments(output_dir=out, num_train_epochs=1, per_device_train_batch_size=args.batch,
                              gradient_accumulation_steps=4, learning_rate=2e-4, warmup_steps=10, logging_steps=10,
                              save_strategy="no", report_to=[], seed=args.seed, bf16=args.autocast == "bf16",
                              use_cpu=True, dataloader_num_workers=0)
    cls = type("OrderedTrainer", (OrderedTrainerMixin, Trainer), {})
    trainer = cls(model=model, args=targs, train_dataset=ds, data_collator=collator, callbacks=[Record()])
    start = time.time()
    result = trainer.train()
    wall = time.time() - start
    shutil.rmtree(out, ignore_errors=True)
    steps = result.global_step
    if fed is None:
        fed = real  # padded per batch of 1: nothing fed but real tokens
    return {"wall_s": wall, "s_per_step": wall / max(steps, 1), "steps": steps, "real_tokens": real,
            "fed_tokens": fed, "real_tok_s": real / wall, "fed_tok_s": fed / wall, "peak_gib": peak_rss_gib(),
            "losses": losses, "final_loss": losses[-1]["loss"] if losses else None}


def generate(args):
    model, tok = load_gguf(args.model_gguf, torch.bfloat16 if args.dtype == "bf16" else torch.float32)
    prompt_words = ("A 45-year-old man presents with fatigue, pallor and a low reticulocyte count after a viral "
                    "illness. His haemoglobin is 6 g/dL and his platelet count is normal. ") * 3
    ids = tok(prompt_words, return_tensors="pt").input_ids[:, :100]
    ids = ids.repeat(args.batch, 1)
    with torch.inference_mode():
        start = time.time()
        model(ids)
        prompt_s = time.time() - start
        start = time.time()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=128,
                             min_new_tokens=128)
        total = time.time() - start
    new = (out.shape[1] - ids.shape[1]) * args.batch
    decode_s = max(total - prompt_s, 1e-9)
    return {"prompt_tok_s": ids.numel() / prompt_s, "decode_tok_s": new / decode_s, "peak_gib": peak_rss_gib()}


def scale(args):
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM
    configs = {
        "tinyllama": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                          num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048),
        "llama-3.2-1b": dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                             num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=131072,
                             tie_word_embeddings=True, rope_theta=500000.0),
    }
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**configs[args.config])).to(torch.bfloat16 if args.dtype == "bf16" else torch.float32)
    if args.checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_TARGETS,
                                             task_type="CAUSAL_LM"))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    ids = torch.randint(0, configs[args.config]["vocab_size"], (1, 512))
    start = time.time()
    for _ in range(4):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.dtype == "bf16"):
            loss = model(ids, labels=ids).loss / 4
        loss.backward()
    opt.step()
    return {"step_s": time.time() - start, "peak_gib": peak_rss_gib()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["w1", "w2", "w3", "w4"])
    p.add_argument("--model-gguf", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--data", default="../shared/data/medical_o1_verifiable_problem.demo198.json")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--order", help="JSON list: the row order both sides use")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--autocast", choices=["none", "bf16"], default="none")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p.add_argument("--config", default="tinyllama")
    p.add_argument("--checkpointing", action="store_true")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.workload == "w1":
        result = train(args, pad_to_longest=False)
    elif args.workload == "w2":
        result = train(args, pad_to_longest=True)
    elif args.workload == "w3":
        result = generate(args)
    else:
        result = scale(args)
    result.update(workload=args.workload, torch=torch.__version__)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
