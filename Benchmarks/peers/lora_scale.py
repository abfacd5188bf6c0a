#!/usr/bin/env python3
"""`lora extract` against `mergekit-extract-lora` on the billion-parameter pair of make_llama_pair.py: wall time
and peak RSS by /usr/bin/time -v, then each adapter's error as PEFT applies it (peft_check.py).

    python3 Benchmarks/peers/make_llama_pair.py --out /work/lora-scale          # once, 4.4 GB
    python3 Benchmarks/peers/lora_scale.py --pair /work/lora-scale --lora .build/debug/lora \
        [--mergekit mergekit-extract-lora] [--python python3] [--threads 2] [--skip-mergekit] [--skip-check]

Runs, back to back and in this order (mergekit first), each under /usr/bin/time -v:
  mergekit   mergekit-extract-lora --model TUNED --base-model BASE --out-path OUT/mergekit --max-rank 16 --embed-lora
  r16        lora extract --base BASE --tuned TUNED --rank 16 --out OUT/lora-r16 --threads T   (--method auto)
  r16-randomized   the same with --method randomized (no certificate)
  r16-bf16   the same as r16 with --dtype bf16 (mergekit stores its factors in the models' bf16)
  e0.9       lora extract ... --energy 0.9 --out OUT/lora-e0.9
Adapters go to PAIR/adapters/ (replaced). Then peft_check.py loads each adapter into a float32 LlamaForCausalLM with
PEFT and compares every module's delta with the true one: err = |dW_adapter - dW|_F / |dW|_F, opt = the
Eckart-Young optimum at the module's rank. The table gives wall time, peak RSS, mean and max err, and the mean
and max of err - opt. The largest tensor pair (lm_head, 32000 x 2048) is 262 MB in bf16, 524 MB as float32.
Prints the table as Markdown and writes it, with every command and the raw figures, to PAIR/adapters/scale.json.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time


def timed(command, log_path, env=None):
    """Runs command under /usr/bin/time -v; returns wall seconds, peak RSS in MB and the exit status."""
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        start = time.time()
        done = subprocess.run(["/usr/bin/time", "-v"] + command, stdout=log, stderr=subprocess.STDOUT, env=env)
        wall = time.time() - start
    text = open(log_path).read()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {"command": " ".join(command), "wall_s": round(wall, 2), "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
            "exit": done.returncode, "log": log_path}


def check(python, pair, adapter, log_path, threads):
    here = os.path.dirname(os.path.abspath(__file__))
    command = [python, os.path.join(here, "peft_check.py"), "--base", os.path.join(pair, "base"), "--tuned", os.path.join(pair, "tuned"),
               "--adapter", adapter, "--threads", str(threads)]
    with open(log_path, "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    rows = []
    for line in open(log_path):
        parts = line.split()  # tensor, shape (two words), r, scale, err, merged, opt
        if len(parts) < 7 or not parts[0].endswith(".weight"):
            continue
        try:
            rows.append({"tensor": parts[0], "r": int(parts[-5]), "err": float(parts[-3]), "opt": float(parts[-1])})
        except ValueError:
            continue
    if not rows:
        return {"exit": done.returncode, "log": log_path}
    errs = [r["err"] for r in rows]
    excess = [r["err"] - r["opt"] for r in rows]
    return {"exit": done.returncode, "log": log_path, "modules": len(rows), "err_mean": sum(errs) / len(errs), "err_max": max(errs),
            "excess_mean": sum(excess) / len(excess), "excess_max": max(excess), "rank_mean": sum(r["r"] for r in rows) / len(rows)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", required=True, help="directory holding base/ and tuned/ (make_llama_pair.py --out)")
    ap.add_argument("--lora", required=True, help="the lora executable")
    ap.add_argument("--mergekit", default=shutil.which("mergekit-extract-lora") or "mergekit-extract-lora")
    ap.add_argument("--python", default=sys.executable, help="python with torch, transformers and peft (for peft_check.py)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-mergekit", action="store_true")
    ap.add_argument("--skip-check", action="store_true")
    args = ap.parse_args()

    base, tuned = os.path.join(args.pair, "base"), os.path.join(args.pair, "tuned")
    out = os.path.join(args.pair, "adapters")
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    runs = {}
    plan = []
    if not args.skip_mergekit:
        plan.append(("mergekit", [args.mergekit, "--model", tuned, "--base-model", base, "--out-path", os.path.join(out, "mergekit"),
                                  "--max-rank", "16", "--embed-lora"]))
    lora = [args.lora, "extract", "--base", base, "--tuned", tuned, "--threads", str(args.threads), "--force"]
    plan += [("r16", lora + ["--rank", "16", "--out", os.path.join(out, "lora-r16")]),
             ("r16-randomized", lora + ["--rank", "16", "--method", "randomized", "--out", os.path.join(out, "lora-r16-randomized")]),
             ("r16-bf16", lora + ["--rank", "16", "--dtype", "bf16", "--out", os.path.join(out, "lora-r16-bf16")]),
             ("e0.9", lora + ["--energy", "0.9", "--out", os.path.join(out, "lora-e0.9")])]
    for name, command in plan:
        shutil.rmtree(os.path.join(out, "mergekit"), ignore_errors=True) if name == "mergekit" else None
        runs[name] = timed(command, os.path.join(out, f"{name}.time.log"), env)
        print(f"{name}: {runs[name]['wall_s']} s, {runs[name]['peak_rss_mb']} MB, exit {runs[name]['exit']}", flush=True)
    if not args.skip_check:
        for name in runs:
            adapter = os.path.join(out, "mergekit" if name == "mergekit" else f"lora-{name}")
            runs[name]["check"] = check(args.python, args.pair, adapter, os.path.join(out, f"{name}.check.log"), args.threads)
            print(f"{name}: {runs[name]['check']}", flush=True)

    print("\n| run | wall (s) | peak RSS (MB) | mean rank | mean err | max err | mean err-opt | max err-opt |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in runs.items():
        c = r.get("check", {})
        f = lambda key, fmt: (fmt % c[key]) if key in c else "-"
        print(f"| {name} | {r['wall_s']} | {r['peak_rss_mb']} | {f('rank_mean', '%.1f')} | {f('err_mean', '%.4e')} | {f('err_max', '%.4e')} "
              f"| {f('excess_mean', '%.2e')} | {f('excess_max', '%.2e')} |")
    with open(os.path.join(out, "scale.json"), "w") as f:
        json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
