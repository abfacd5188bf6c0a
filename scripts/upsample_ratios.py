#!/usr/bin/env python3
"""Ratio table for the upsample family: PyTorch's time (the faster of its functional call and its out=
call, from Benchmarks/peers/torch_upsample.py's CSV) over ours (the faster of `simd` and `parallel` at
that thread count, from bench's CSV), per shape, layout and thread count, with our GB/s and its share of
the triad bandwidth bench measured.

    scripts/upsample_ratios.py BENCH.csv TORCH.csv
"""
import sys

from bench_csv import fail, number, read_rows
if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
    fail("usage: scripts/upsample_ratios.py BENCH.csv TORCH.csv (see the docstring)")
bench, torch = sys.argv[1], sys.argv[2]
peer = {}
for r in read_rows(torch, ["variant", "shape", "layout", "threads", "median_ns"], "torch_upsample.py CSV"):
    key = (r["variant"], r["shape"], r["layout"], int(number(r, "threads", torch)))
    t = number(r, "median_ns", torch)
    peer[key] = min(t, peer.get(key, t))
ours = {}
for r in read_rows(bench, ["variant", "shape", "threads", "status", "median_ns", "gbps", "pct_peak"]):
    if r["status"] != "pass" or r["variant"] not in ("simd", "parallel"):
        continue
    shape = r["shape"]
    layout = "nhwc" if shape.endswith("-nhwc") else "nchw"
    base = shape[:-5] if layout == "nhwc" else shape
    if "-" not in base:
        fail(f"{bench}: shape {shape!r} is not an upsample shape (NxCxHxW-OPERATION): not a report of `bench --filter upsample`")
    dims, op = base.split("-", 1)
    key = (op, dims, layout, int(number(r, "threads", bench)))
    t = number(r, "median_ns", bench)
    if key not in ours or t < ours[key][0]:
        ours[key] = (t, number(r, "gbps", bench, empty=0), number(r, "pct_peak", bench, empty=0), r["variant"])
if not ours:
    fail(f"{bench}: no passing simd or parallel row: not a report of `bench --filter upsample`")
print("| operation | shape | layout | threads | PyTorch | ours | ratio | our GB/s (% triad) |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(ours):
    p = peer.get(key)
    t, gbps, pct, v = ours[key]
    ratio = f"**{p / t:.1f}×**" if p else "-"
    ptxt = f"{p / 1e6:.2f} ms" if p else "-"
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {ptxt} | {t / 1e6:.2f} ms ({v}) | {ratio} | {gbps:.1f} ({pct:.0f}%) |")
