#!/usr/bin/env python3
"""Runs medrepl's benchmark: medrepl-bench and reference.py on identical work, interleaved (A B A B).

Standard library only (the reference's own packages live in .venv-reference, run as a child process).
Started by tools/bench/run.sh, which first builds medrepl-bench and installs the reference; see README.md.
Every workload runs in a fresh process, so its peak memory is its own. Results are written after every run
to bench/results/bench-DATE.json, so an interrupted run keeps what it measured.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# --isa LEVEL: every side held to one instruction-set level, so an AVX-512 machine gives the figures of an
# AVX2-only one. medrepl's kernels (MEDREPL_ISA) and OpenBLAS's (Haswell: AVX2 + FMA); torch's ATen kernels,
# MKL and oneDNN. llama.cpp's level is the one it was built for (build it with -DGGML_NATIVE=OFF -DGGML_AVX2=ON
# -DGGML_FMA=ON -DGGML_F16C=ON for --isa avx2).
ISA_ENVIRONMENT = {
    "avx2": {"MEDREPL_ISA": "avx2", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512": {"MEDREPL_ISA": "avx512", "OPENBLAS_CORETYPE": "SkylakeX", "ATEN_CPU_CAPABILITY": "avx512",
               "MKL_ENABLE_INSTRUCTIONS": "AVX512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
}


def load_average():
    return list(os.getloadavg())


class Runner:
    def __init__(self, args):
        self.args = args
        self.bench = os.path.join(ROOT, ".build", "release", "medrepl-bench")
        self.python = os.path.join(ROOT, ".venv-reference", "bin", "python")
        os.makedirs(args.out, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        self.path = os.path.join(args.out, f"bench-{stamp}{'-quick' if args.quick else ''}.json")
        # Machines that set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old BLAS builds would hold both sides to
        # that kernel; by default each side runs without them and picks its own (--keep-blas-env keeps them).
        self.env = dict(os.environ)
        dropped = {} if args.keep_blas_env else {k: self.env.pop(k) for k in BLAS_VARIABLES if k in self.env}
        isa_env = ISA_ENVIRONMENT.get(args.isa, {})
        self.env.update(isa_env)
        self.results = {"started": stamp, "quick": args.quick, "only": args.only, "repetitions": args.repetitions,
                        "load_average_start": load_average(), "blas_environment_dropped": dropped,
                        "isa": args.isa or "native", "isa_environment": isa_env, "runs": []}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.results, f, indent=1)
        os.replace(tmp, self.path)

    def run(self, key, side, command, timeout):
        """One workload in a fresh process; its result is the JSON object on the last line of stdout."""
        print(f"  {side:9} {key} ...", end="", flush=True)
        load = load_average()
        start = time.time()
        entry = {"key": key, "side": side, "command": command, "load_average_before": load}
        try:
            proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=self.env)
            lines = [l for l in proc.stdout.strip().splitlines() if l.startswith("{")]
            if proc.returncode != 0 or not lines:
                entry["error"] = f"exit {proc.returncode}: " + (proc.stderr.strip()[-1500:] or proc.stdout.strip()[-500:])
            else:
                entry["result"] = json.loads(lines[-1])
        except subprocess.TimeoutExpired:
            entry["error"] = f"timed out after {timeout} s"
        entry["process_s"] = time.time() - start
        print(f" {entry['process_s']:.1f} s" + (f"  ERROR {entry['error'][:300]}" if "error" in entry else ""), flush=True)
        self.results["runs"].append(entry)
        self.save()
        return entry.get("result")

    def llama_cpp(self, *options):
        return [sys.executable, os.path.join(HERE, "llamacpp.py"), "--bin", self.args.llama_cpp,
                "--threads", str(self.args.threads), "--cache-dir", self.args.out, *options]

    def medrepl(self, workload, *options):
        return [self.bench, workload, *options]

    def reference(self, workload, *options):
        return [self.python, os.path.join(HERE, "reference.py"), workload, "--threads", str(self.args.threads), *options]


def plan(args, runner, out):
    """The workloads as (key, [(side, command)], repetitions) in the order they run."""
    quick, only = args.quick, set(args.only.split(",")) if args.only else {"w1", "w2", "w3", "w4"}
    model = ["--model-gguf", args.model]
    data = ["--data", args.data]
    steps = ["--max-steps", str(args.steps), "--logging-steps", "1"] if quick else ["--logging-steps", "10"]
    reps = args.repetitions
    # the reference's dequantized model, kept after its first GGUF load (W3 alone times loading the GGUF itself)
    cache = ["--cache", os.path.join(out, "reference-model-cache.pt")]
    items = []
    if "w1" in only:
        for dropout, tag in [("0", "d0"), ("0.05", "d0.05")]:
            folder = os.path.join(out, f"init-adapter-{tag}")
            common = model + data + steps + ["--init-adapter", folder]
            # the parity run (dropout 0) is the timed one; the notebook's dropout is logged once on each side
            # --w1-reference longest: the reference pads to the longest row instead of to 512; the losses are the
            # same (padding is masked and attended by nothing), its time is not the notebook's
            reference_w1 = "w2" if args.w1_reference == "longest" else "w1"
            items.append((f"w1 dropout={dropout}", [("medrepl", runner.medrepl("w1", *common)),
                                                    ("reference", runner.reference(reference_w1, *common, *cache))],
                          reps if dropout == "0" else 1, ("init", folder, dropout)))
            if quick:
                break
    if "w2" in only:
        common = model + data + (["--max-steps", str(args.steps), "--logging-steps", "1"] if quick else ["--logging-steps", "10"])
        # medrepl at its best: a bf16 base with bf16 autocast (as the reference's bf16 side) and activation
        # recomputation, the configuration that is both faster and far smaller than the reference's best
        best = ["--dtype", "bf16", "--checkpointing"]
        items.append(("w2", [("medrepl", runner.medrepl("w2", *common, *best)),
                             ("reference", runner.reference("w2", *common, *cache)),
                             ("reference-bf16", runner.reference("w2", *common, *cache, "--autocast", "bf16"))], reps, None))
    if "w3" in only:
        for dtype in ["f32", "bf16"]:
            for batch in ([1] if quick else [1, 8]):
                opts = model + ["--dtype", dtype, "--batch", str(batch)]
                # bf16 weights in bf16 arithmetic on every side: torch runs the bf16 model in bf16, llama.cpp rounds
                # activations to bf16, medrepl with --bf16-products 1 (load_model ... arithmetic=bf16)
                mine = opts + (["--bf16-products", "1"] if dtype == "bf16" else [])
                sides = [("medrepl", runner.medrepl("w3", *mine)), ("reference", runner.reference("w3", *opts))]
                if args.llama_cpp and batch == 1:   # llama-bench measures one sequence
                    sides.append(("llama.cpp", runner.llama_cpp(*model, "--dtype", dtype)))
                items.append((f"w3 {dtype} b{batch}", sides, reps, None))
        # weights kept in ggml's blocks: medrepl against llama.cpp on the same types (torch has no such CPU path);
        # keep: the GGUF's own types as they are (SmolLM2: Q4_1, its embedding Q8_0)
        for dtype in ["q8_0", "q4_0", "q4_1", "keep"]:
            for batch in ([1] if quick else [1, 8]):
                sides = [("medrepl", runner.medrepl("w3", *model, "--dtype", dtype, "--batch", str(batch)))]
                if args.llama_cpp and batch == 1 and dtype != "keep":
                    sides.append(("llama.cpp", runner.llama_cpp(*model, "--dtype", dtype)))
                items.append((f"w3 {dtype} b{batch}", sides, reps, None))
    if "w4" in only:
        for config in (["tinyllama"] if quick else ["tinyllama", "llama-3.2-1b"]):
            for recompute in [False, True]:
                opts = ["--config", config, "--dtype", "bf16"] + (["--checkpointing"] if recompute else [])
                items.append((f"w4 {config}{' recompute' if recompute else ''}",
                              [("medrepl", runner.medrepl("w4", *opts)), ("reference", runner.reference("w4", *opts))],
                              reps, None))
    return items


def median_result(runs, key, side):
    results = [r["result"] for r in runs if r["key"] == key and r["side"] == side and "result" in r]
    if not results:
        return None
    out = dict(results[0])
    for field, value in results[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[field] = statistics.median(r[field] for r in results if isinstance(r.get(field), (int, float)))
    out["n"] = len(results)
    return out


# (metric, field, lower is better)
METRICS = {
    "w1": [("wall s", "wall_s", True), ("s/step", "s_per_step", True), ("real tok/s", "real_tok_s", False),
           ("fed tok/s", "fed_tok_s", False), ("peak GiB", "peak_gib", True), ("final loss", "final_loss", None)],
    "w2": [("wall s", "wall_s", True), ("real tok/s", "real_tok_s", False), ("peak GiB", "peak_gib", True),
           ("final loss", "final_loss", None)],
    "w3": [("load s", "load_s", True), ("prompt tok/s", "prompt_tok_s", False), ("decode tok/s", "decode_tok_s", False),
           ("peak GiB", "peak_gib", True)],
    "w4": [("init s", "init_s", True), ("step s", "step_s", True), ("peak GiB", "peak_gib", True)],
}


def mfu(result, machine, linear_params):
    """Model FLOPs (4 x linear weights x tokens computed) per second over the measured sgemm peak."""
    seconds = result.get("wall_s") or result.get("step_s")
    if not machine or not seconds or not linear_params or not result.get("processed_tokens"):
        return None
    return 4 * linear_params * result["processed_tokens"] / seconds / (machine["sgemm_gflops"] * 1e9)


def summarise(results):
    runs = results["runs"]
    machine = median_result(runs, "machine", "medrepl")
    rows, keys = [], []
    for r in runs:
        if r["key"] not in keys and r["key"] != "machine" and not r["key"].startswith("init"):
            keys.append(r["key"])
    summary = {"machine": machine, "workloads": {}}
    for key in keys:
        workload = key.split()[0]
        m = median_result(runs, key, "medrepl")
        refs = {side: median_result(runs, key, side) for side in ("reference", "reference-bf16")}
        refs = {k: v for k, v in refs.items() if v}
        # the reference at its best: the faster of its configurations (W2: f32 or bf16 autocast)
        ref_side = min(refs, key=lambda s: refs[s].get("wall_s", 0)) if refs else None
        ref = refs.get(ref_side)
        linear = (m or {}).get("linear_params")
        entry = {"medrepl": m, "reference": ref, "reference_side": ref_side, "reference_all": refs}
        for name, field, lower in METRICS[workload]:
            a, b = (m or {}).get(field), (ref or {}).get(field)
            ratio = a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None
            rows.append((key + ("" if ref_side in (None, "reference") else f" (ref {ref_side})"), name, a, b, ratio, lower))
            entry[field] = {"medrepl": a, "reference": b, "ratio": ratio}
        if workload in ("w1", "w2", "w4"):
            a, b = (mfu(m, machine, linear) if m else None), (mfu(ref, machine, linear) if ref else None)
            rows.append((key, "MFU", a, b, a / b if a and b else None, False))
            entry["mfu"] = {"medrepl": a, "reference": b}
        cpp = median_result(runs, key, "llama.cpp")
        if workload == "w3" and m and cpp:
            entry["llama_cpp"] = cpp
            for name, field in [("prompt tok/s", "prompt_tok_s"), ("decode tok/s", "decode_tok_s"), ("peak GiB", "peak_gib")]:
                a, b = m.get(field), cpp.get(field)
                rows.append((key + " (vs llama.cpp)", name, a, b, a / b if a and b else None, field == "peak_gib"))
        if workload == "w3" and m and machine:
            bound = machine["read_gb_s"] * 1e9 / m["weight_bytes"] * m["batch"]
            entry["decode_bound_tok_s"] = bound
            rows.append((key, "decode/bound", m["decode_tok_s"] / bound, None, None, False))
            if m.get("products_s"):   # one decode step's weight products alone, against the same bandwidth
                products = m["weight_bytes"] / m["products_s"] / 1e9
                entry["products_gb_s"] = products
                rows.append((key, "products/bound", products / machine["read_gb_s"], None, None, False))
        summary["workloads"][key] = entry
    return summary, rows


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    return str(v)


def fmt6(v):
    return "-" if v is None else f"{v:.6f}"


def print_table(summary, rows):
    m = summary["machine"]
    if m:
        print(f"\nmachine: {m['cpu']}; {m['features']}; medrepl kernels {m.get('kernel_level', '?')}\n  {m['blas']}\n"
              f"  sgemm peak {m['sgemm_gflops']:.1f} GFLOPS, memory read {m['read_gb_s']:.1f} GB/s "
              f"({m['read_gb_s_1thread']:.1f} on one thread)")
    print(f"\n{'workload':28} {'metric':14} {'medrepl':>10} {'reference':>10} {'m/r':>8}  better")
    for key, name, a, b, ratio, lower in rows:
        better = "" if lower is None else ("lower" if lower else "higher")
        print(f"{key:28} {name:14} {fmt(a):>10} {fmt(b):>10} {fmt(ratio):>8}  {better}")


def print_losses(results):
    """The logged losses of both sides, step by step, for each W1 run (the first repetition)."""
    runs = results["runs"]
    for key in sorted({r["key"] for r in runs if r["key"].startswith("w1")}):
        sides = {}
        for side in ("medrepl", "reference"):
            found = [r["result"] for r in runs if r["key"] == key and r["side"] == side and "result" in r]
            if found:
                sides[side] = {e["step"]: e for e in found[0]["losses"]}
        if len(sides) < 2:
            continue
        sums = [next(r["result"]["init_lora_A_abs_sum"] for r in runs
                     if r["key"] == key and r["side"] == side and "result" in r) for side in ("medrepl", "reference")]
        print(f"\n{key}: logged losses (sum of |lora_A| at the start: medrepl {sums[0]:.6f}, reference {sums[1]:.6f})")
        print(f"{'step':>5} {'medrepl':>10} {'reference':>10} {'diff':>10} {'gnorm m':>9} {'gnorm r':>9}")
        for step in sorted(set(sides["medrepl"]) | set(sides["reference"])):
            a, b = sides["medrepl"].get(step, {}), sides["reference"].get(step, {})
            la, lb = a.get("loss"), b.get("loss")
            diff = la - lb if la is not None and lb is not None else None
            print(f"{step:>5} {fmt6(la):>10} {fmt6(lb):>10} {fmt6(diff):>10} {fmt6(a.get('grad_norm')):>9} {fmt6(b.get('grad_norm')):>9}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="W1/W2 shortened to --steps steps, one repetition, W3 batch 1, W4 TinyLlama")
    p.add_argument("--only", help="comma-separated workloads: w1,w2,w3,w4 (default: all)")
    p.add_argument("--repetitions", type=int, help="A B pairs per workload (default: 2, quick: 1)")
    p.add_argument("--steps", type=int, default=8, help="optimizer steps of W1/W2 in --quick")
    p.add_argument("--w1-reference", choices=["notebook", "longest"], default="notebook",
                   help="longest: W1's reference pads to the longest row (same losses, ~4x less work; not the notebook's time)")
    p.add_argument("--keep-blas-env", action="store_true",
                   help="pass OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE on to both sides (default: both run without them)")
    p.add_argument("--isa", choices=sorted(ISA_ENVIRONMENT),
                   help="hold every side to this instruction-set level (default: each side's best for the CPU)")
    p.add_argument("--llama-cpp", metavar="DIR", help="W3's third column: a folder with llama.cpp's llama-bench and llama-quantize")
    p.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--data", default="../shared/data/medical_o1_verifiable_problem.demo198.json")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads of the reference")
    p.add_argument("--timeout", type=int, default=7200, help="seconds before one process is stopped")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--summarise", metavar="JSON", help="print the tables of an earlier results file and stop")
    args = p.parse_args()
    if args.summarise:
        results = json.load(open(args.summarise))
        summary, rows = summarise(results)
        print_table(summary, rows)
        print_losses(results)
        return 0
    if args.repetitions is None:
        args.repetitions = 1 if args.quick else 2
    runner = Runner(args)
    print(f"results: {runner.path}\nload average at start: {runner.results['load_average_start']}")
    if runner.results["blas_environment_dropped"]:
        print("both sides run without " + ", ".join(f"{k}={v}" for k, v in runner.results["blas_environment_dropped"].items())
              + " (--keep-blas-env keeps them)")
    if args.isa:
        print(f"every side held to {args.isa}: " + " ".join(f"{k}={v}" for k, v in ISA_ENVIRONMENT[args.isa].items()))
    runner.run("machine", "medrepl", runner.medrepl("machine"), 300)
    for key, sides, reps, init in plan(args, runner, args.out):
        if init:
            _, folder, dropout = init
            if not os.path.exists(os.path.join(folder, "adapter_model.safetensors")):
                runner.run(f"init-adapter dropout={dropout}", "reference",
                           runner.reference("init-adapter", "--model-gguf", args.model, "--out", folder,
                                            "--lora-dropout", dropout, "--cache", os.path.join(args.out, "reference-model-cache.pt")), 900)
        print(key)
        for _ in range(reps):
            for side, command in sides:
                runner.run(key, side, command, args.timeout)
    runner.results["load_average_end"] = load_average()
    summary, rows = summarise(runner.results)
    runner.results["summary"] = summary
    runner.save()
    print_table(summary, rows)
    print_losses(runner.results)
    print(f"\nload average: start {runner.results['load_average_start']}, end {runner.results['load_average_end']}"
          f"\nresults: {runner.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
