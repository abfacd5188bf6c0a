#!/usr/bin/env python3
"""Golden ranks for `lora resize`'s kohya rules: kohya-ss sd-scripts networks/resize_lora.py's own functions
(index_sv_ratio, index_sv_fro, index_sv_cumulative and the rank part of rank_resize, copied verbatim below
from the repository's main branch, Apache-2.0) applied to a few spectra. Targets of exactly 1 are left out: whether kohya's running fraction reaches 1.0
depends on the last bit of torch's summation order (on a 16-value spectrum sv_fro 1.0 gives rank 32, the
zeros included, because the cumulative sum ends at 0.9999999999999999).

    python3 reference/lora_resize/make_golden.py      # writes reference/lora_resize/golden.json
"""
import json
import os

import torch

MIN_SV = 1e-6


def index_sv_cumulative(S, target):
    original_sum = float(torch.sum(S))
    cumulative_sums = torch.cumsum(S, dim=0) / original_sum
    index = int(torch.searchsorted(cumulative_sums, target)) + 1
    index = max(1, min(index, len(S) - 1))

    return index


def index_sv_fro(S, target):
    S_squared = S.pow(2)
    S_fro_sq = float(torch.sum(S_squared))
    sum_S_squared = torch.cumsum(S_squared, dim=0) / S_fro_sq
    index = int(torch.searchsorted(sum_S_squared, target**2)) + 1
    index = max(1, min(index, len(S) - 1))

    return index


def index_sv_ratio(S, target):
    max_sv = S[0]
    min_sv = max_sv / target
    index = int(torch.sum(S > min_sv).item())
    index = max(1, min(index, len(S) - 1))

    return index


def rank_resize(S, rank, dynamic_method, dynamic_param):
    if dynamic_method == "sv_ratio":
        new_rank = index_sv_ratio(S, dynamic_param) + 1
    elif dynamic_method == "sv_cumulative":
        new_rank = index_sv_cumulative(S, dynamic_param) + 1
    elif dynamic_method == "sv_fro":
        new_rank = index_sv_fro(S, dynamic_param) + 1
    else:
        new_rank = rank
    if S[0] <= MIN_SV:
        new_rank = 1
    elif new_rank > rank:
        new_rank = rank
    return new_rank


def main():
    spectra = {
        "geometric": [8.0, 4.0, 2.0, 1.0, 0.5, 0.0, 0.0, 0.0],
        "flat": [1.0] * 6 + [0.0] * 4,
        "one": [3.0, 0.0, 0.0, 0.0],
        "decaying": [1.0 / (k + 1) ** 1.5 for k in range(16)] + [0.0] * 16,
        "zero": [0.0] * 5,
    }
    cases = []
    for name, values in spectra.items():
        S = torch.tensor(values, dtype=torch.float64)
        for method, params in [("sv_ratio", [1.5, 3, 10, 1000]), ("sv_fro", [0.5, 0.9, 0.99]), ("sv_cumulative", [0.5, 0.9, 0.99])]:
            for param in params:
                for cap in [2, 4, 64]:
                    cases.append({"spectrum": name, "method": method, "param": param, "cap": cap,
                                  "rank": rank_resize(S, cap, method, param)})
    out = {"generator": "reference/lora_resize/make_golden.py", "spectra": spectra, "cases": cases}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
