#!/usr/bin/env python3
"""Golden data for the algorithm kernels, from oracles independent of the Swift code.

Run from the repository root:  python3 reference/algorithms/make_golden.py
Writes reference/algorithms/golden.json. Every input is stored in the file (the tests do not
regenerate it), drawn from NumPy's seeded generator:

- maximumGap: arrays of Int32, Int64 (including the extremes, so that max - min overflows Int64)
  and float32, with the gap from Python's sorted(): exact integers, and for float32 the
  difference of neighbours as Python floats (float64), as the Swift kernels define it.
- knapsack: small instances and their optimum by brute force over all subsets.
- combinations: candidates, target and rule, with the sorted list of distinct multisets from
  itertools (combinations_with_replacement for "reuse", combinations of entries for "once").
- mrp: random Markov reward processes (P, R, gamma) with V from numpy.linalg.solve on
  (I - gamma P) V = r, and the linear TD fixed point for random features.
- orientation / incircle: near-degenerate points stored as float.hex() strings, with the sign
  of the determinant computed exactly in fractions.Fraction on those same doubles.
"""
import itertools
import json
from fractions import Fraction

import numpy as np

rng = np.random.default_rng(20261126)


def maximum_gap_cases():
    cases = []
    for dtype, lo, hi in (("int32", -2**31, 2**31), ("int64", -2**63, 2**63)):
        for n in (0, 1, 2, 10, 57):
            values = [int(x) for x in rng.integers(lo, hi, size=n, dtype=np.int64)]
            if n >= 2:
                values[0], values[-1] = lo, hi - 1
            s = sorted(values)
            gap = max((b - a for a, b in zip(s, s[1:])), default=0)
            cases.append({"type": dtype, "values": values, "gap": gap})
        dup = [int(x) for x in rng.integers(-5, 5, size=40)]
        s = sorted(dup)
        cases.append({"type": dtype, "values": dup, "gap": max(b - a for a, b in zip(s, s[1:]))})
    for n in (0, 1, 2, 10, 57):
        values = rng.standard_normal(n).astype(np.float32) * np.float32(1000)
        values = [float(x) for x in values]
        if n >= 3:
            values[1] = -0.0
            values[2] = 0.0
        s = sorted(values)
        gap = max((b - a for a, b in zip(s, s[1:])), default=0.0)
        cases.append({"type": "float32", "values": values, "gap": gap})
    return cases


def knapsack_cases():
    cases = []
    for n, capacity in ((0, 5), (1, 0), (5, 10), (8, 20), (12, 37), (12, 100)):
        volumes = [int(x) for x in rng.integers(0 if n == 5 else 1, 15, size=n)]
        values = [int(x) for x in rng.integers(0, 100, size=n)]
        best = 0
        for mask in range(1 << n):
            v = sum(volumes[i] for i in range(n) if mask >> i & 1)
            w = sum(values[i] for i in range(n) if mask >> i & 1)
            if v <= capacity:
                best = max(best, w)
        cases.append({"volumes": volumes, "values": values, "capacity": capacity, "optimum": best})
    return cases


def combination_cases():
    cases = []
    specs = [("reuse", [2, 3, 6, 7], 7), ("reuse", [2, 3, 5], 8), ("reuse", [2], 1), ("reuse", [7, 3, 11, 4], 30),
             ("once", [10, 1, 2, 7, 6, 1, 5], 8), ("once", [2, 5, 2, 1, 2], 5), ("once", [1, 1, 1, 1], 0)]
    for _ in range(3):
        specs.append(("reuse", sorted(set(int(x) for x in rng.integers(2, 12, size=5))), int(rng.integers(15, 40))))
        specs.append(("once", [int(x) for x in rng.integers(1, 8, size=12)], int(rng.integers(10, 25))))
    for rule, candidates, target in specs:
        found = set()
        if rule == "reuse":
            for length in range(0, target // min(candidates) + 1):
                for combo in itertools.combinations_with_replacement(sorted(candidates), length):
                    if sum(combo) == target:
                        found.add(combo)
        else:
            for length in range(0, len(candidates) + 1):
                for combo in itertools.combinations(sorted(candidates), length):
                    if sum(combo) == target:
                        found.add(combo)
        cases.append({"rule": rule, "candidates": candidates, "target": target,
                      "combinations": [list(c) for c in sorted(found)]})
    return cases


def mrp_cases():
    cases = []
    for states, gamma in ((4, 0.9), (7, 0.95), (12, 1.0)):
        p = rng.exponential(size=(states, states + 1))
        p[:, states] += 0.3
        p /= p.sum(axis=1, keepdims=True)
        r = rng.uniform(-1, 1, size=(states, states + 1))
        expected = (p * r).sum(axis=1)
        values = np.linalg.solve(np.eye(states) - gamma * p[:, :states], expected)
        k = max(2, states // 2)
        phi = rng.uniform(0, 1, size=(states, k))
        occupancy = np.linalg.solve((np.eye(states) - p[:, :states]).T, np.full(states, 1.0 / states))
        d = np.diag(occupancy)
        a = phi.T @ d @ (np.eye(states) - gamma * p[:, :states]) @ phi
        b = phi.T @ d @ expected
        cases.append({"states": states, "discount": gamma,
                      "transitions": [float(x) for x in p.ravel()], "rewards": [float(x) for x in r.ravel()],
                      "values": [float(x) for x in values],
                      "featureCount": k, "features": [float(x) for x in phi.ravel()],
                      "fixedPoint": [float(x) for x in np.linalg.solve(a, b)]})
    return cases


def orient(a, b, c):
    ax, ay, bx, by, cx, cy = map(Fraction, (*a, *b, *c))
    det = (ax - cx) * (by - cy) - (ay - cy) * (bx - cx)
    return (det > 0) - (det < 0)


def incircle(a, b, c, d):
    ax, ay, bx, by, cx, cy, dx, dy = map(Fraction, (*a, *b, *c, *d))
    adx, ady, bdx, bdy, cdx, cdy = ax - dx, ay - dy, bx - dx, by - dy, cx - dx, cy - dy
    det = ((adx * adx + ady * ady) * (bdx * cdy - cdx * bdy) + (bdx * bdx + bdy * bdy) * (cdx * ady - adx * cdy)
           + (cdx * cdx + cdy * cdy) * (adx * bdy - bdx * ady))
    return (det > 0) - (det < 0)


def hexed(points):
    return [[float(x).hex() for x in p] for p in points]


def predicate_cases():
    orientation, in_circle = [], []
    for _ in range(60):
        kind = rng.integers(0, 3)
        if kind == 0:  # on the rounded line through a and b
            a, b = rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)
            c = a + rng.uniform(-1, 2) * (b - a)
        elif kind == 1:  # Kettner et al.'s grid of tiny offsets
            a = np.array([0.5 + int(rng.integers(0, 256)) * 2.0**-53, 0.5 + int(rng.integers(0, 256)) * 2.0**-53])
            b, c = np.array([12.0, 12.0]), np.array([24.0, 24.0])
        else:  # large coordinates
            a, b = rng.uniform(-1e8, 1e8, 2), rng.uniform(-1e8, 1e8, 2)
            c = a + rng.uniform(-1, 2) * (b - a)
            c[1] = np.nextafter(c[1], np.inf)
        points = [tuple(float(x) for x in p) for p in (a, b, c)]
        orientation.append({"points": hexed(points), "sign": orient(*points)})
    for _ in range(60):
        center, radius = rng.uniform(-1, 1, 2) * (1e8 if rng.integers(0, 2) else 1), rng.uniform(0.1, 1)
        if abs(center[0]) > 10:
            radius *= 1e8
        angles = rng.uniform(-np.pi, np.pi, 4)
        points = [tuple(float(x) for x in center + radius * np.array([np.cos(t), np.sin(t)])) for t in angles]
        in_circle.append({"points": hexed(points), "sign": incircle(*points)})
    return orientation, in_circle


def main():
    orientation, in_circle = predicate_cases()
    golden = {"maximumGap": maximum_gap_cases(), "knapsack": knapsack_cases(), "combinations": combination_cases(),
              "mrp": mrp_cases(), "orientation": orientation, "inCircle": in_circle}
    with open("reference/algorithms/golden.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
