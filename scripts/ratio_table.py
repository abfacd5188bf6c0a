#!/usr/bin/env python3
"""Ratio tables from one bench CSV: peer median time / ours, per shape, dtype and thread count.

    scripts/ratio_table.py RESULTS.csv --ours parallel --peers 'blas-openblas,blas-blis,blas-netlib,blas-atlas'

For each (dtype, shape, threads) it prints ours against each peer and against the best (fastest) peer
that passed in that row's thread count, then the geometric means per dtype and thread count, and the
smallest ratio. Ratios > 1 mean ours is faster. Only rows with status pass are used.
"""
import argparse
from collections import defaultdict

from bench_csv import fail, geomean, number, read_rows

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("--ours", required=True, help="our variant's name")
ap.add_argument("--peers", required=True, help="comma-separated peer variant names")
ap.add_argument("--kernel", default=None)
args = ap.parse_args()
peers = args.peers.split(",")
med = {}
order = []
for r in read_rows(args.csv, ["kernel", "variant", "dtype", "shape", "threads", "status", "median_ns"]):
    if args.kernel and r["kernel"] != args.kernel:
        continue
    if r["status"] != "pass":
        continue
    key = (r["dtype"], r["shape"], int(number(r, "threads", args.csv)))
    if key not in order:
        order.append(key)
    med[key + (r["variant"],)] = number(r, "median_ns", args.csv)

if not any(k[3] == args.ours for k in med):
    fail(f"{args.csv}: no passing row of variant {args.ours!r}" + (f" of kernel {args.kernel!r}" if args.kernel else ""))
print("| dtype | shape | threads | " + " | ".join(peers) + " | best peer |")
print("|---|---|---|" + "---|" * (len(peers) + 1))
logs = defaultdict(list)
for key in order:
    ours = med.get(key + (args.ours,))
    if ours is None:
        continue
    cells = []
    best = None
    for p in peers:
        t = med.get(key + (p,))
        cells.append(f"{t / ours:.2f}" if t else "-")
        if t and (best is None or t < best[1]):
            best = (p, t)
    if best:
        ratio = best[1] / ours
        logs[(key[0], key[2])].append((ratio, key[1]))
        cells.append(f"{ratio:.2f} ({best[0]})")
    else:
        cells.append("-")
    print(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + " |")
print()
print("| dtype | threads | geomean vs best peer | smallest (shape) |")
print("|---|---|---|---|")
for (dt, th), v in sorted(logs.items()):
    g = geomean([x for x, _ in v])
    lo = min(v)
    print(f"| {dt} | {th} | {g:.2f} | {lo[0]:.2f} ({lo[1]}) |")
