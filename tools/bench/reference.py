#!/usr/bin/env python3
"""The reference side of medrepl's benchmark: transformers + peft on the same work.

Each workload prints one JSON object on the last line of stdout. Run by tools/bench/run.sh, which
runs medrepl and this script interleaved and compares them. Not a test; never imported by medrepl.

  python reference.py init-adapter --out DIR --lora-dropout 0     (peft's fresh adapter, saved before training)
  python reference.py w1 --init-adapter DIR [--max-steps 8 --logging-steps 1]
  python reference.py w2 [--autocast bf16]                           (pad to the longest row)
  python reference.py w3 --batch 1 --dtype f32
  python reference.py w4 --config tinyllama --dtype bf16 [--checkpointing]
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


def load_gguf(path, dtype=torch.float32, cache=None):
    """transformers' GGUF loading (dequantized to `dtype`). With `cache` (a file), the dequantized model and its
    tokenizer are pickled there after the first load and read back later: the same numbers without minutes of
    dequantizing (transformers refuses save_pretrained on a model loaded from GGUF)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if cache and os.path.exists(cache):
        model, tok = torch.load(cache, weights_only=False)
        return model.to(dtype), tok
    folder = tempfile.mkdtemp(prefix="medrepl-bench-")
    link = os.path.join(folder, os.path.basename(path))
    os.symlink(os.path.abspath(path), link)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=os.path.basename(path))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=os.path.basename(path), dtype=dtype)
    shutil.rmtree(folder)
    # The GGUF tensors were dequantized to `dtype` on load; the quantization marker left on the model only makes
    # Trainer refuse to train it (the notebook loads the same weights unquantized from the hub).
    model.hf_quantizer = None
    model.is_quantized = False
    model.quantization_method = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    if cache and dtype == torch.float32:
        os.makedirs(os.path.dirname(os.path.abspath(cache)), exist_ok=True)
        torch.save((model, tok), cache + ".partial")
        os.replace(cache + ".partial", cache)
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


def lora_a_abs_sum(model):
    """Sum of |lora_A| over the adapter: equal on both sides when they start from the same weights."""
    return float(sum(p.detach().abs().double().sum() for n, p in model.named_parameters() if "lora_A" in n))


def peft_model(args, model):
    """The notebook's LoRA on `model`: a fresh one (seeded), or the saved one of --init-adapter."""
    from peft import LoraConfig, PeftModel, get_peft_model
    if getattr(args, "init_adapter", None):
        return PeftModel.from_pretrained(model, args.init_adapter, is_trainable=True)
    torch.manual_seed(args.seed)
    return get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=args.lora_dropout,
                                            target_modules=LORA_TARGETS, bias="none", task_type="CAUSAL_LM"))


def init_adapter(args):
    """Saves peft's freshly initialised adapter (lora_B = 0) so that medrepl can start from the same weights."""
    model, _ = load_gguf(args.model_gguf, cache=args.cache)
    model = peft_model(args, model)
    model.save_pretrained(args.out)
    return {"out": args.out, "lora_dropout": args.lora_dropout, "init_lora_A_abs_sum": lora_a_abs_sum(model)}


def train(args, pad_to_longest):
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, TrainerCallback

    torch.manual_seed(args.seed)
    start = time.time()
    model, tok = load_gguf(args.model_gguf, cache=args.cache)
    load_s = time.time() - start
    tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    model = peft_model(args, model)
    init_sum = lora_a_abs_sum(model)
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
    collator = DataCollatorForLanguageModeling(tokenizer=tok, mlm=False)
    losses = []

    class Record(TrainerCallback):
        def on_log(self, _args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append({"step": state.global_step, "loss": logs["loss"], "grad_norm": logs.get("grad_norm")})
                # at once and in full precision, so that a run stopped early still shows its losses
                print("log " + json.dumps(losses[-1]), file=sys.stderr, flush=True)

    out = tempfile.mkdtemp(prefix="medrepl-bench-out-")
    targs = TrainingArguments(output_dir=out, num_train_epochs=1, per_device_train_batch_size=args.batch,
                              gradient_accumulation_steps=4, learning_rate=2e-4, warmup_steps=10,
                              logging_steps=args.logging_steps, max_steps=args.max_steps,
                              save_strategy="no", report_to=[], seed=args.seed, bf16=args.autocast == "bf16",
                              use_cpu=True, dataloader_num_workers=0)
    cls = type("OrderedTrainer", (OrderedTrainerMixin, Trainer), {})
    trainer = cls(model=model, args=targs, train_dataset=ds, data_collator=collator, callbacks=[Record()])
    start = time.time()
    result = trainer.train()
    wall = time.time() - start
    shutil.rmtree(out, ignore_errors=True)
    steps = result.global_step
    # The rows the steps read (sequential order): all of them for an epoch, the first steps x 4 x batch otherwise.
    masks = ds["attention_mask"][:steps * 4 * args.batch]
    real = sum(sum(m) for m in masks)
    fed = sum(len(m) for m in masks)  # padded to the longest with batch 1: nothing fed but real tokens
    return {"mode": "pad-longest" if pad_to_longest else "notebook", "autocast": args.autocast, "rows": len(texts),
            "load_s": load_s, "wall_s": wall, "s_per_step": wall / max(steps, 1), "steps": steps,
            "real_tokens": real, "fed_tokens": fed, "real_tok_s": real / wall, "fed_tok_s": fed / wall,
            "processed_tokens": fed, "peak_gib": peak_rss_gib(), "losses": losses,
            "final_loss": losses[-1]["loss"] if losses else None,
            "lora_dropout": model.peft_config["default"].lora_dropout, "init_lora_A_abs_sum": init_sum}


def generate(args):
    start = time.time()
    model, tok = load_gguf(args.model_gguf, torch.bfloat16 if args.dtype == "bf16" else torch.float32)
    load_s = time.time() - start
    text = open(args.prompt_file, encoding="utf-8").read().strip()
    prompt = tok(text, return_tensors="pt").input_ids[:, :args.prompt_tokens]
    ids = prompt.repeat(args.batch, 1)
    with torch.inference_mode():
        start = time.time()
        model(ids)
        prompt_s = time.time() - start
        start = time.time()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)
        total = time.time() - start
    # generate() repeats the prefill (timed alone above); the first new token comes from it, the rest are decode steps.
    decode_steps = (out.shape[1] - ids.shape[1] - 1) * args.batch
    decode_s = max(total - prompt_s, 1e-9)
    return {"dtype": args.dtype, "batch": args.batch, "prompt_tokens": ids.shape[1], "load_s": load_s,
            "prefill_s": prompt_s, "total_s": total, "prompt_tok_s": ids.numel() / prompt_s,
            "decode_tok_s": decode_steps / decode_s, "peak_gib": peak_rss_gib(),
            "prompt_ids": prompt[0].tolist(), "first_reply_ids": out[0, ids.shape[1]:ids.shape[1] + 16].tolist()}


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
    start = time.time()
    model = LlamaForCausalLM(LlamaConfig(**configs[args.config])).to(torch.bfloat16 if args.dtype == "bf16" else torch.float32)
    if args.checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_TARGETS,
                                             task_type="CAUSAL_LM"))
    init_s = time.time() - start
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    ids = torch.randint(0, configs[args.config]["vocab_size"], (1, 512))
    start = time.time()
    for _ in range(4):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.dtype == "bf16"):
            loss = model(ids, labels=ids).loss / 4
        loss.backward()
    opt.step()
    return {"config": args.config, "dtype": args.dtype, "checkpointing": args.checkpointing, "tokens": 4 * 512,
            "init_s": init_s, "step_s": time.time() - start, "processed_tokens": 4 * 512, "peak_gib": peak_rss_gib()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["init-adapter", "w1", "w2", "w3", "w4"])
    p.add_argument("--model-gguf", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--data", default="../shared/data/medical_o1_verifiable_problem.demo198.json")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--order", help="JSON list: the row order both sides use")
    p.add_argument("--max-steps", type=int, default=-1, help="optimizer steps (default: one epoch)")
    p.add_argument("--logging-steps", type=int, default=10)
    p.add_argument("--lora-dropout", type=float, default=0.05)
    p.add_argument("--init-adapter", help="a peft adapter folder to start training from (its config and weights)")
    p.add_argument("--out", help="init-adapter: where to save the adapter")
    p.add_argument("--cache", help="w1, w2, init-adapter: keep/read the dequantized model in this file")
    p.add_argument("--prompt-file", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "prompt.txt"))
    p.add_argument("--prompt-tokens", type=int, default=100)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--autocast", choices=["none", "bf16"], default="none")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p.add_argument("--config", default="tinyllama")
    p.add_argument("--checkpointing", action="store_true")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.workload == "init-adapter":
        result = init_adapter(args)
    elif args.workload == "w1":
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
