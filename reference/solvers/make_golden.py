#!/usr/bin/env python3
"""Golden data for the conjugate-gradient stopping rules (Tests/KernelsTests/SolversGoldenTests.swift).

    python3 reference/solvers/make_golden.py      # writes reference/solvers/golden.json

Small SPD systems (dense Q·Λ·Qᵀ from NumPy's seeded generator, a badly scaled one for Jacobi,
2-D Poisson grids, a right-hand side so small that the rules disagree about testing r₀), each
solved by the three implementations people use:

- OpenAI baselines `baselines/common/cg.py` `cg(f_Ax, b, cg_iters=10, residual_tol=1e-10)`:
  transcribed below line for line (NumPy, float64);
- Stable-Baselines3-contrib `sb3_contrib/common/utils.py` `conjugate_gradient_solver(
  matrix_vector_dot_fn, b, max_iter, residual_tol=1e-10)`: transcribed from torch to NumPy line
  for line, with the start `1e-4 * randn` drawn from Crosscheck's SeededGenerator (seed 7) instead
  of torch's generator, so that Swift's `CGOptions.stableBaselines3(seed: 7)` starts from the same x₀;
  TRPO calls it with max_iter = cg_max_steps = 15;
- SciPy `scipy.sparse.linalg.cg` itself (SciPy's version is recorded), iterations counted by its
  callback; the recurrence residual, which SciPy does not return, from a transcription of
  `scipy/sparse/linalg/_isolve/iterative.py` checked to take the same iterations and give the
  same x.

For every run: iterations taken (products A·p), the recurrence residual norm at exit (SB3 and
baselines do not compute it after their last iteration; the transcription adds that one line,
which does not change x), and x. Every stopping decision is checked to be clear of its threshold
by a relative 1e-6, and every run is repeated on the system perturbed by a relative 1e-13 (A
kept symmetric) and must take the same iterations, end within 1e-7 of the same residual and move
x by less than 1e-10·‖x‖: so rounding differences between NumPy and Swift cannot change what the
test compares. (Runs past about n iterations, where rounding decides the count, fail this check
and are left out.) Also records values of SeededGenerator (seed 42) that the Swift test compares, which
validates Benchmarks/peers/seeded_generator.py.
"""
import json
import os
import sys

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as sla

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Benchmarks", "peers"))
from seeded_generator import SeededGenerator  # noqa: E402

MARGIN = 1e-6


class Margin(Exception):
    pass


def check_clear(value, threshold, what):
    if threshold > 0 and abs(value / threshold - 1) < MARGIN:
        raise Margin(f"{what}: {value} within {MARGIN} of the threshold {threshold}")


# --- transcriptions -------------------------------------------------------------------------

def baselines_cg(f_Ax, b, cg_iters=10, residual_tol=1e-10):
    """baselines/common/cg.py, without the callback and printing."""
    p = b.copy()
    r = b.copy()
    x = np.zeros_like(b)
    rdotr = r.dot(r)
    iterations = 0
    for i in range(cg_iters):
        z = f_Ax(p)
        iterations += 1
        v = rdotr / p.dot(z)
        x += v * p
        r -= v * z
        newrdotr = r.dot(r)
        mu = newrdotr / rdotr
        p = r + mu * p
        rdotr = newrdotr
        check_clear(rdotr, residual_tol, "baselines rdotr")
        if rdotr < residual_tol:
            break
    return x, iterations, np.sqrt(rdotr)


def sb3_cg(matrix_vector_dot_fn, b, x0, max_iter=15, residual_tol=1e-10):
    """sb3_contrib/common/utils.py conjugate_gradient_solver, torch → NumPy; x0 given."""
    x = x0.copy()
    residual = b - matrix_vector_dot_fn(x)
    residual_squared_norm = residual @ residual
    check_clear(residual_squared_norm, residual_tol, "sb3 initial")
    if residual_squared_norm < residual_tol:
        return x, 0, np.sqrt(residual_squared_norm)
    p = residual.copy()
    for i in range(max_iter):
        A_dot_p = matrix_vector_dot_fn(p)
        alpha = residual_squared_norm / p.dot(A_dot_p)
        x += alpha * p
        if i == max_iter - 1:
            residual -= alpha * A_dot_p  # not in SB3: the report's final residual; x unchanged
            return x, i + 1, np.sqrt(residual @ residual)
        residual -= alpha * A_dot_p
        new_residual_squared_norm = residual @ residual
        check_clear(new_residual_squared_norm, residual_tol, "sb3 residual")
        if new_residual_squared_norm < residual_tol:
            return x, i + 1, np.sqrt(new_residual_squared_norm)
        beta = new_residual_squared_norm / residual_squared_norm
        residual_squared_norm = new_residual_squared_norm
        p = residual + beta * p
    return x, max_iter, np.sqrt(residual_squared_norm)


def scipy_cg_transcribed(matvec, b, rtol, atol, maxiter, psolve):
    """scipy/sparse/linalg/_isolve/iterative.py cg, x0 = None, real arithmetic."""
    bnrm2 = np.linalg.norm(b)
    atol = max(float(atol), float(rtol) * float(bnrm2))
    n = len(b)
    if maxiter is None:
        maxiter = n * 10
    x = np.zeros_like(b)
    r = b.copy()
    rho_prev, p = None, None
    for iteration in range(maxiter):
        check_clear(np.linalg.norm(r), atol, "scipy residual")
        if np.linalg.norm(r) < atol:
            return x, iteration, np.linalg.norm(r)
        z = psolve(r)
        rho_cur = np.dot(r, z)
        if iteration > 0:
            beta = rho_cur / rho_prev
            p *= beta
            p += z
        else:
            p = np.empty_like(r)
            p[:] = z[:]
        q = matvec(p)
        alpha = rho_cur / np.dot(p, q)
        x += alpha * p
        r -= alpha * q
        rho_prev = rho_cur
    return x, maxiter, np.linalg.norm(r)


# --- systems --------------------------------------------------------------------------------

def dense_spd(n, eigenvalues, rng):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * eigenvalues) @ q.T
    return 0.5 * (a + a.T)


def poisson(rows, columns):
    def tridiagonal(k):
        return sp.diags([-np.ones(k - 1), 2 * np.ones(k), -np.ones(k - 1)], [-1, 0, 1])
    return (sp.kron(sp.identity(rows), tridiagonal(columns)) + sp.kron(tridiagonal(rows), sp.identity(columns))).tocsr()


def systems():
    rng = np.random.default_rng(2024)
    out = []

    def dense(name, a, with_scipy=True):
        x_star = rng.standard_normal(a.shape[0])
        out.append({"name": name, "n": a.shape[0], "matrix": a, "grid": None, "b": a @ x_star, "scipy": with_scipy})

    dense("dense64-k10", dense_spd(64, np.geomspace(1, 0.1, 64), rng))
    clusters = np.repeat(np.geomspace(1, 1e-3, 4), 10) * (1 + 1e-3 * rng.uniform(-1, 1, 40))
    dense("dense40-clustered", dense_spd(40, clusters, rng))
    scales = np.geomspace(1, 1e2, 60)
    base = dense_spd(60, np.geomspace(1, 0.2, 60), rng)
    # Unpreconditioned, κ is about 10⁵ and SciPy runs past n iterations, where rounding decides
    # the count: only the fixed-count rules and Jacobi-preconditioned SciPy are recorded.
    dense("dense60-badly-scaled", base * np.sqrt(np.outer(scales, scales)), with_scipy=False)
    tiny = dict(out[0])
    tiny["name"] = "dense64-k10-tiny-b"
    tiny["matrix_of"] = "dense64-k10"
    tiny["b"] = out[0]["b"] * 1e-6
    out.append(tiny)
    for rows, columns in [(8, 8), (12, 10)]:
        a = poisson(rows, columns)
        x_star = rng.uniform(-1, 1, rows * columns)
        out.append({"name": f"poisson{rows}x{columns}", "n": rows * columns, "matrix": a, "grid": [rows, columns],
                    "b": a @ x_star, "scipy": True})
    return out


def perturbed(system, rng):
    """The system with A (symmetrically) and b perturbed by a relative 1e-13."""
    a = system["matrix"]
    if sp.issparse(a):
        a = a.copy()
        a.data = a.data * (1 + 1e-13 * rng.uniform(-1, 1, a.data.shape))
        a = 0.5 * (a + a.T)
    else:
        noise = rng.uniform(-1, 1, a.shape)
        a = a * (1 + 1e-13 * 0.5 * (noise + noise.T))
    return dict(system, matrix=a, b=system["b"] * (1 + 1e-13 * rng.uniform(-1, 1, system["n"])))


def check_robust(run, other, what):
    """Rounding-level changes to A and b must not change what is recorded."""
    if run["iterations"] != other["iterations"]:
        raise Margin(f"{what}: {run['iterations']} iterations, {other['iterations']} on a perturbed system")
    if abs(run["residual_norm"] / other["residual_norm"] - 1) > 1e-7:
        raise Margin(f"{what}: residual {run['residual_norm']} against {other['residual_norm']} on a perturbed system")
    x, y = np.array(run["x"]), np.array(other["x"])
    if np.abs(x - y).max() > 1e-10 * np.linalg.norm(x):
        raise Margin(f"{what}: x moves by {np.abs(x - y).max() / np.linalg.norm(x)} on a perturbed system")


def runs(system):
    a, b, n = system["matrix"], system["b"], system["n"]
    matvec = (lambda v: a @ v)
    results = []

    x, k, res = baselines_cg(matvec, b, cg_iters=10, residual_tol=1e-10)
    results.append({"rule": "baselines", "iterations_limit": 10, "tolerance": 1e-10, "iterations": k, "residual_norm": res, "x": x})

    x0 = 1e-4 * SeededGenerator(7).gaussian(n)
    x, k, res = sb3_cg(matvec, b, x0, max_iter=15, residual_tol=1e-10)
    results.append({"rule": "sb3", "iterations_limit": 15, "tolerance": 1e-10, "seed": 7, "scale": 1e-4, "x0": x0,
                    "iterations": k, "residual_norm": res, "x": x})

    jacobi = "badly-scaled" in system["name"]
    variants = ([False] if system["scipy"] else []) + ([True] if jacobi else [])
    inverse_diagonal = 1 / (a.diagonal() if sp.issparse(a) else np.diag(a))
    for rtol in ([1e-8, 1e-5]):
        for preconditioned in variants:
            count = [0]

            def callback(_):
                count[0] += 1
            m = sla.LinearOperator((n, n), matvec=lambda r: inverse_diagonal * r) if preconditioned else None
            x, info = sla.cg(a, b, rtol=rtol, atol=0.0, M=m, callback=callback)
            psolve = (lambda r: inverse_diagonal * r) if preconditioned else (lambda r: r)
            xt, kt, res = scipy_cg_transcribed(matvec, b, rtol, 0.0, None, psolve)
            assert kt == count[0], (system["name"], rtol, kt, count[0])
            assert np.allclose(xt, x, rtol=1e-12, atol=1e-12 * np.abs(x).max()), system["name"]
            results.append({"rule": "scipy-jacobi" if preconditioned else "scipy", "rtol": rtol, "atol": 0.0,
                            "iterations": count[0], "info": int(info), "residual_norm": res, "x": x,
                            "true_residual_norm": float(np.linalg.norm(b - a @ x))})
    return results


def main():
    generator = SeededGenerator(42)
    check = {"seed": 42, "uniform": [generator.next_signed() for _ in range(4)],
             "gaussian": [generator.next_gaussian() for _ in range(4)]}
    out_systems = []
    rng = np.random.default_rng(99)
    for system in systems():
        recorded, again = runs(system), runs(perturbed(system, rng))
        for run, other in zip(recorded, again):
            check_robust(run, other, f"{system['name']} {run['rule']} {run.get('rtol', '')}")
        entry = {"name": system["name"], "n": system["n"], "grid": system["grid"], "b": system["b"].tolist(),
                 "matrix_of": system.get("matrix_of"),
                 "matrix": None if system["grid"] or "matrix_of" in system else system["matrix"].ravel().tolist()}
        entry["runs"] = [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in run.items()} for run in recorded]
        out_systems.append(entry)
    golden = {"scipy_version": scipy.__version__, "numpy_version": np.__version__, "generator": check, "systems": out_systems}
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    for system in out_systems:
        print(system["name"], [(r["rule"], r.get("rtol", ""), r["iterations"]) for r in system["runs"]])


if __name__ == "__main__":
    main()
