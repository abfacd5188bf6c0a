#!/usr/bin/env python3
"""Golden singular values for the SVD tests, computed by NumPy (LAPACK's dgesdd in float64).

Run from the repository root:  python3 reference/svd/make_golden.py
Writes reference/svd/golden.json. Each matrix is built as U @ diag(s) @ V.T from NumPy's seeded
generator, then rounded to float32 so that the same stored values serve Float and Double tests;
`sigma` are the singular values of that stored matrix, from np.linalg.svd in float64.
"""
import json
import numpy as np

SPECTRA = {
    "fastDecay": lambda k: np.exp(-np.arange(k) / 4.0),
    "slowDecay": lambda k: 1.0 / np.sqrt(np.arange(k) + 1.0),
    "flat": lambda k: np.ones(k),
    "repeated": lambda k: np.maximum(1.0, 10.0 - np.arange(k) // 10),
    "rankDeficient": lambda k: np.where(np.arange(k) < k // 2, 1.0 / (np.arange(k) + 1.0), 0.0),
    "outlier": lambda k: np.where(np.arange(k) == 0, 1000.0, 1.0 / np.sqrt(np.arange(k) + 1.0)),
    "zero": lambda k: np.zeros(k),
}

SHAPES = [(24, 24), (30, 12), (12, 30)]


def main():
    rng = np.random.default_rng(20261125)
    cases = []
    for spectrum, values in SPECTRA.items():
        for m, n in SHAPES:
            k = min(m, n)
            u, _ = np.linalg.qr(rng.standard_normal((m, k)))
            v, _ = np.linalg.qr(rng.standard_normal((n, k)))
            a = ((u * values(k)) @ v.T).astype(np.float32).astype(np.float64)
            sigma = np.linalg.svd(a, compute_uv=False)
            cases.append({
                "name": f"{spectrum}-{m}x{n}", "spectrum": spectrum, "m": m, "n": n,
                "a": [float(x) for x in a.ravel()],
                "sigma": [float(x) for x in sigma],
            })
    with open("reference/svd/golden.json", "w") as f:
        json.dump({"generator": "reference/svd/make_golden.py", "numpy": np.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
