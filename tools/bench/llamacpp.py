#!/usr/bin/env python3
"""W3's third column: llama.cpp's own llama-bench on the same weights, printed as one JSON line like medrepl-bench's.

The GGUF (Q4_1) is converted once with llama-quantize to the workload's format (F32 or BF16: the same values
medrepl dequantizes into memory) and kept beside the results. llama.cpp is not part of medrepl and is not
built by it: pass the folder holding a llama-bench and llama-quantize that you built (see README.md).
"""
import argparse
import json
import os
import resource
import subprocess
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True, help="folder with llama-bench and llama-quantize")
    p.add_argument("--model-gguf", required=True)
    p.add_argument("--dtype", choices=["f32", "bf16", "q8_0", "q4_0", "q4_1"], required=True)
    p.add_argument("--prompt-tokens", type=int, default=100)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--cache-dir", required=True, help="where the converted GGUF is kept")
    a = p.parse_args()

    os.makedirs(a.cache_dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.model_gguf))[0]
    converted = os.path.join(a.cache_dir, f"{stem}.{a.dtype.upper()}.gguf")
    if not os.path.exists(converted):
        tmp = converted + ".tmp"
        subprocess.run([os.path.join(a.bin, "llama-quantize"), "--allow-requantize", a.model_gguf, tmp, a.dtype.upper()],
                       check=True, capture_output=True)
        os.replace(tmp, converted)

    out = subprocess.run([os.path.join(a.bin, "llama-bench"), "-m", converted, "-p", str(a.prompt_tokens),
                          "-n", str(a.new_tokens), "-t", str(a.threads), "-r", "1", "-o", "json"],
                         check=True, capture_output=True, text=True)
    tests = json.loads(out.stdout)
    prompt = next(t for t in tests if t.get("n_prompt", 0) > 0 and t.get("n_gen", 0) == 0)
    decode = next(t for t in tests if t.get("n_gen", 0) > 0 and t.get("n_prompt", 0) == 0)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1 << 20)   # KiB -> GiB
    print(json.dumps({"dtype": a.dtype, "batch": 1, "prompt_tok_s": prompt["avg_ts"], "decode_tok_s": decode["avg_ts"],
                      "peak_gib": peak, "weights": os.path.basename(converted),
                      "llama_cpp_build": f"{tests[0].get('build_commit', '?')} ({tests[0].get('build_number', '?')})"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
