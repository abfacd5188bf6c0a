#!/usr/bin/env python3
"""Ratio table for the upsample family: PyTorch's time (the faster of its functional call and its out=
call, from Benchmarks/peers/torch_upsample.py's CSV) over ours (the faster of `simd` and `parallel` at
that thread count, from bench's CSV), per shape, layout and thread count, with our GB/s and its share of
the triad bandwidth bench measured.

    scripts/upsample_ratios.py BENCH.csv TORCH.csv
"""
import csv, sys
bench, torch = sys.argv[1], sys.argv[2]
peer = {}
for r in csv.DictReader(open(torch)):
    key = (r["variant"], r["shape"], r["layout"], int(r["threads"]))
    t = float(r["median_ns"])
    peer[key] = min(t, peer.get(key, t))
ours = {}
for r in csv.DictReader(open(bench)):
    if r["status"] != "pass" or r["variant"] not in ("simd", "parallel"):
        continue
    shape = r["shape"]
    layout = "nhwc" if shape.endswith("-nhwc") else "nchw"
    base = shape[:-5] if layout == "nhwc" else shape
    dims, op = base.split("-", 1)
    op = op.replace("shuffle-r", "shuffle-r").replace("unshuffle-r", "unshuffle-r")
    key = (op, dims, layout, int(r["threads"]))
    t = float(r["median_ns"])
    if key not in ours or t < ours[key][0]:
        ours[key] = (t, float(r["gbps"] or 0), float(r["pct_peak"] or 0), r["variant"])
print("| operation | shape | layout | threads | PyTorch | ours | ratio | our GB/s (% triad) |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(ours):
    p = peer.get(key)
    t, gbps, pct, v = ours[key]
    ratio = f"**{p / t:.1f}×**" if p else "-"
    ptxt = f"{p / 1e6:.2f} ms" if p else "-"
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {ptxt} | {t / 1e6:.2f} ms ({v}) | {ratio} | {gbps:.1f} ({pct:.0f}%) |")
