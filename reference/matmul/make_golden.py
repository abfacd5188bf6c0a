#!/usr/bin/env python3
"""Golden products for the matmul tests, computed by NumPy.

Run from the repository root:  python3 reference/matmul/make_golden.py
Writes reference/matmul/golden.json. Inputs come from NumPy's seeded generator and are stored
exactly (float32 values are exactly representable as the float64 numbers JSON carries).

Each case stores A, B and C as the full padded buffers the kernel sees (row-major, leading
dimensions lda, ldb, ldc), op(A) = A or A^T, and the expected C = alpha*op(A)@op(B) + beta*C.
For float32 inputs the expected values are computed in float64 from the float32 inputs (so they
are far more accurate than any float32 kernel); for float64 they come from NumPy's float64 matmul.
"""
import json
import numpy as np

CASES = [
    # name, dtype, m, n, k, transA, transB, alpha, beta, pad
    ("square-f32", "f32", 8, 8, 8, False, False, 1.0, 0.0, 0),
    ("primes-f32", "f32", 7, 13, 17, False, False, 1.0, 0.0, 0),
    ("primes-tA-f32", "f32", 7, 13, 17, True, False, 1.0, 0.0, 0),
    ("primes-tB-f32", "f32", 7, 13, 17, False, True, 1.0, 0.0, 0),
    ("primes-tAtB-alpha-beta-f32", "f32", 11, 5, 19, True, True, -1.5, 0.75, 0),
    ("padded-f32", "f32", 9, 33, 31, False, False, 2.0, -1.0, 3),
    ("k1-f32", "f32", 6, 32, 1, False, False, 1.0, 0.0, 0),
    ("tall-f32", "f32", 40, 3, 70, False, True, 1.0, 1.0, 1),
    ("square-f64", "f64", 8, 8, 8, False, False, 1.0, 0.0, 0),
    ("primes-f64", "f64", 7, 13, 17, False, False, 1.0, 0.0, 0),
    ("primes-tAtB-f64", "f64", 13, 7, 29, True, True, 0.5, 2.0, 2),
    ("edge-tile-f64", "f64", 7, 17, 65, False, False, 1.0, 0.0, 0),
]


def main():
    rng = np.random.default_rng(20261125)
    cases = []
    for name, dtype, m, n, k, ta, tb, alpha, beta, pad in CASES:
        np_type = np.float32 if dtype == "f32" else np.float64
        a_rows, a_cols = (k, m) if ta else (m, k)
        b_rows, b_cols = (n, k) if tb else (k, n)
        lda, ldb, ldc = a_cols + pad, b_cols + pad, n + pad
        a = rng.uniform(-1, 1, (a_rows, lda)).astype(np_type)
        b = rng.uniform(-1, 1, (b_rows, ldb)).astype(np_type)
        c = rng.uniform(-1, 1, (m, ldc)).astype(np_type)
        op_a = a[:, :a_cols].astype(np.float64)
        op_b = b[:, :b_cols].astype(np.float64)
        op_a = op_a.T if ta else op_a
        op_b = op_b.T if tb else op_b
        expected = alpha * (op_a @ op_b) + beta * c[:, :n].astype(np.float64)
        cases.append({
            "name": name, "dtype": dtype, "m": m, "n": n, "k": k,
            "transA": ta, "transB": tb, "alpha": alpha, "beta": beta,
            "lda": lda, "ldb": ldb, "ldc": ldc,
            "a": [float(x) for x in a.ravel()],
            "b": [float(x) for x in b.ravel()],
            "c": [float(x) for x in c.ravel()],
            "expected": [float(x) for x in expected.ravel()],
        })
    with open("reference/matmul/golden.json", "w") as f:
        json.dump({"generator": "reference/matmul/make_golden.py", "numpy": np.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
