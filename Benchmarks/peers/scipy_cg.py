#!/usr/bin/env python3
"""SciPy's conjugate gradient (`scipy.sparse.linalg.cg`) on the problems `bench --filter cg` runs,
for the ratio table of issue 10.

    python3 Benchmarks/peers/scipy_cg.py [--problems poisson100,poisson1000,dense2000]
                                         [--threads 1,2] [--repeats 5] [--dtype f64]
                                         [--rtol 1e-8] [--dense-iterations K]

Problems, as Sources/Kernels/Solvers/SolverWorkloads.swift builds them:
- `poissonN`: the 2-D Poisson matrix on an N × N grid (unscaled 5-point stencil, Dirichlet;
  kron(I, T) + kron(T, I) with T = tridiag(−1, 2, −1), CSR with 32-bit indices),
  x* = `PoissonSystem(grid:seed:)`'s: `[Double].uniform` from SeededGenerator(seed) (default seed
  10), b = A·x*; solved to `--rtol` (1e-8), atol 0, SciPy's default maxiter 10·n, x₀ = 0.
- `denseN`: `SPDSystem(dimension: N, spectrum: .geometric(conditionNumber: 1e3), seed:)`
  (default seed 20): Q from N² Gaussians of SeededGenerator orthonormalized by Householder QR
  (NumPy's qr calls LAPACK's dgeqrf/dorgqr, as Swift's `orthonormalize` does), A = Q·Λ·Qᵀ with
  λᵢ = κ^(−i/(N−1)), symmetrized, x* the next N Gaussians, b = A·x*; solved to `--rtol` as
  `bench` solves it, or, with `--dense-iterations K`, for exactly K iterations (rtol = atol = 0,
  maxiter = K), so that both sides do the same work whatever rounding does (compare with the
  `ms_per_iteration` of bench's row); A is a NumPy array, so SciPy's products call BLAS ?gemv.

Inputs are made identical by rebuilding them from the same seeded generator
(Benchmarks/peers/seeded_generator.py, the Swift generator bit for bit; checked by
Tests/KernelsTests/SolversGoldenTests.swift). The Poisson b equals Swift's up to the order of the
stencil's additions (last bits), so the iteration counts can differ by one at most; the dense
matrix equals Swift's up to the rounding of two LAPACK builds, which a fixed iteration count
makes irrelevant to the timing.

Threads: each thread count runs in a child process with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
MKL_NUM_THREADS set before NumPy is imported (SciPy's sparse products are single-threaded
whatever the setting; its vector operations and dense products use BLAS threads).

Prints CSV: problem, dtype, threads, iterations, median_ms (over --repeats solves, after one
warm-up), ms_per_iteration, relative_residual (‖b − A·x‖/‖b‖ recomputed), info (SciPy's).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def build(problem, dtype, seed_poisson, seed_dense):
    import numpy as np
    import scipy.sparse as sp
    from seeded_generator import SeededGenerator

    if problem.startswith("poisson"):
        n = int(problem[len("poisson"):])

        def tridiagonal(k):
            return sp.diags([-np.ones(k - 1), 2 * np.ones(k), -np.ones(k - 1)], [-1, 0, 1])
        a = (sp.kron(sp.identity(n), tridiagonal(n)) + sp.kron(tridiagonal(n), sp.identity(n))).tocsr()
        a.indices = a.indices.astype(np.int32)
        a.indptr = a.indptr.astype(np.int32)
        x_star = SeededGenerator(seed_poisson).uniform(n * n)
        b = a @ x_star
        return a.astype(dtype), b.astype(dtype)
    if problem.startswith("dense"):
        n = int(problem[len("dense"):])
        generator = SeededGenerator(seed_dense)
        q, _ = np.linalg.qr(generator.gaussian(n * n).reshape(n, n))
        eigenvalues = 1e3 ** (-np.arange(n) / (n - 1))
        a = (q * eigenvalues) @ q.T
        a = 0.5 * (a + a.T)
        x_star = generator.gaussian(n)
        return np.ascontiguousarray(a.astype(dtype)), (a @ x_star).astype(dtype)
    raise SystemExit(f"unknown problem {problem}")


def worker(args):
    import numpy as np
    import scipy.sparse.linalg as sla

    dtype = {"f64": np.float64, "f32": np.float32}[args.dtype]
    for problem in args.problems.split(","):
        a, b = build(problem, dtype, args.seed_poisson, args.seed_dense)
        if problem.startswith("dense") and args.dense_iterations:
            options = {"rtol": 0.0, "atol": 0.0, "maxiter": args.dense_iterations}
        else:
            options = {"rtol": args.rtol, "atol": 0.0}
        count = [0]

        def callback(_):
            count[0] += 1
        x, info = sla.cg(a, b, callback=callback, **options)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            sla.cg(a, b, **options)
            times.append(time.perf_counter() - start)
        median = statistics.median(times) * 1e3
        residual = np.linalg.norm(b.astype(np.float64) - a.astype(np.float64) @ x.astype(np.float64)) / np.linalg.norm(b.astype(np.float64))
        print(f"{problem},{args.dtype},{args.threads},{count[0]},{median:.3f},{median / max(1, count[0]):.4f},{residual:.3e},{info}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="poisson100,poisson1000,dense2000")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="f64", choices=["f64", "f32"])
    parser.add_argument("--rtol", type=float, default=1e-8)
    parser.add_argument("--dense-iterations", type=int, default=0, help="fixed iteration count for dense problems (0: solve to --rtol)")
    parser.add_argument("--seed-poisson", type=int, default=10)
    parser.add_argument("--seed-dense", type=int, default=20)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print("problem,dtype,threads,iterations,median_ms,ms_per_iteration,relative_residual,info", flush=True)
    for threads in args.threads.split(","):
        env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        command = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", threads]
        for name in ["problems", "repeats", "dtype", "rtol", "dense_iterations", "seed_poisson", "seed_dense"]:
            command += ["--" + name.replace("_", "-"), str(getattr(args, name))]
        subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
