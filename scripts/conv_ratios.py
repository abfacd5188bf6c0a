#!/usr/bin/env python3
"""Ratio table for the conv family: PyTorch's conv2d time (Benchmarks/peers/torch_conv.py's CSV) over our
fastest variant's (bench's CSV; `blas` is im2col + OpenBLAS and `reference` the Double loops, so neither counts
as ours), per layer, batch, layout and thread count, with the geometric mean per thread count.

    scripts/conv_ratios.py BENCH.csv [BENCH.csv ...] --torch TORCH.csv
"""
import argparse
import re
from collections import defaultdict

from bench_csv import fail, geomean, number, read_rows
ap = argparse.ArgumentParser()
ap.add_argument("bench", nargs="+")
ap.add_argument("--torch", required=True)
args = ap.parse_args()
peer = {}
for r in read_rows(args.torch, ["network", "layer", "batch", "layout", "threads", "median_ns"], "torch_conv.py CSV"):
    key = (f"{r['network']}/{r['layer']}", int(number(r, "batch", args.torch)), r["layout"], int(number(r, "threads", args.torch)))
    peer[key] = number(r, "median_ns", args.torch)
ours = {}
for path in args.bench:
    for r in read_rows(path, ["variant", "shape", "threads", "status", "median_ns", "gflops", "pct_peak"]):
        if r["status"] != "pass" or r["variant"] in ("reference", "blas"):
            continue
        m = re.match(r"(.+)@N(\d+)-.*-(nchw|nhwc)$", r["shape"])
        if not m:
            continue
        key = (m.group(1), int(m.group(2)), m.group(3), int(number(r, "threads", path)))
        t = number(r, "median_ns", path)
        if key not in ours or t < ours[key][0]:
            ours[key] = (t, r["variant"], number(r, "gflops", path, empty=0), number(r, "pct_peak", path, empty=0))
if not ours:
    fail(f"no passing conv row named LAYER@N…-LAYOUT in {', '.join(args.bench)}: not a report of `bench --filter conv`")
print("| layer | batch | layout | threads | PyTorch | ours (variant, GFLOP/s, % peak) | ratio |")
print("|---|---|---|---|---|---|---|")
logs = defaultdict(list)
for key in sorted(ours):
    t, v, g, pct = ours[key]
    p = peer.get(key)
    if p:
        logs[(key[3], key[2])].append(p / t)
        logs[(key[3], "all")].append(p / t)
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {p / 1e6:.3f} ms | {t / 1e6:.3f} ms ({v}, {g:.0f}, {pct:.0f}%) | {p / t:.2f} |" if p else
          f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | - | {t / 1e6:.3f} ms ({v}) | - |")
print()
print("| threads | layout | geometric mean | smallest |")
print("|---|---|---|---|")
for k, v in sorted(logs.items()):
    print(f"| {k[0]} | {k[1]} | {geomean(v):.2f} | {min(v):.2f} |")
