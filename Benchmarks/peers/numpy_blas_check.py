"""A real client of the project's GEMM engine as a BLAS: Debian's numpy (python3-numpy, run by
/usr/bin/python3; a pip-installed numpy carries its own prefixed OpenBLAS and ignores
preloading) calls cblas_sgemm / cblas_dgemm through libblas.so.3.

    /usr/bin/python3 Benchmarks/peers/numpy_blas_check.py [--library .build/debug/libCrosscheckBLAS.so]

Runs numpy.matmul of two distinct seeded matrices (a @ a.T would go to syrk) on a few shapes in
float32 and float64 twice, in child processes: once as installed (the system BLAS), once with
the library preloaded and CROSSCHECK_BLAS_TRACE=1, whose trace lines prove each product reached
it. The two results must agree within 2*gamma_k*|A||B| elementwise (each is within gamma_k of the
exact product; gamma_k = k*u/(1 - k*u)). Exit status 0 when every shape agrees and was traced.
"""
import argparse
import os
import subprocess
import sys
import tempfile

SHAPES = [(64, 64, 64), (127, 131, 137), (300, 40, 700), (1000, 16, 1000), (513, 257, 129)]


def child(out_dir):
    import numpy as np
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        for m, n, k in SHAPES:
            a = rng.uniform(-1, 1, (m, k)).astype(dtype)
            b = rng.uniform(-1, 1, (k, n)).astype(dtype)
            np.savez(os.path.join(out_dir, f"{np.dtype(dtype).name}-{m}x{n}x{k}.npz"), a=a, b=b, c=a @ b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", default=".build/debug/libCrosscheckBLAS.so")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    import numpy as np
    library = os.path.abspath(args.library)
    if not os.path.isfile(library):
        sys.exit(f"{library}: not found; build it with `swift build --product CrosscheckBLAS`")
    with tempfile.TemporaryDirectory() as system_dir, tempfile.TemporaryDirectory() as ours_dir:
        subprocess.run([sys.executable, __file__, "--child", system_dir], check=True)
        env = dict(os.environ, LD_PRELOAD=library, CROSSCHECK_BLAS_TRACE="1")
        traced = subprocess.run([sys.executable, __file__, "--child", ours_dir], env=env, check=True,
                                stderr=subprocess.PIPE, text=True).stderr.splitlines()
        calls = [line for line in traced if line.startswith("crosscheck-blas:")]
        ok = True
        print(f"numpy {np.__version__} ({sys.executable}); {len(calls)} calls reached {os.path.basename(library)}")
        for dtype in ("float32", "float64"):
            u = np.finfo(dtype).eps / 2
            routine = "cblas_sgemm" if dtype == "float32" else "cblas_dgemm"
            for m, n, k in SHAPES:
                name = f"{dtype}-{m}x{n}x{k}"
                system = np.load(os.path.join(system_dir, name + ".npz"))["c"].astype(np.float64)
                saved = np.load(os.path.join(ours_dir, name + ".npz"))
                ours, a, b = saved["c"].astype(np.float64), saved["a"], saved["b"]
                magnitude = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
                gamma = k * u / (1 - k * u)
                ratio = np.max(np.abs(ours - system) / (u * magnitude))
                bound = 2 * gamma / u
                reached = any(f"{routine} m={m} n={n} k={k}" in c or f"{routine} m={n} n={m} k={k}" in c for c in calls)
                agree = ratio <= bound and np.isfinite(ours).all()
                ok &= agree and reached
                print(f"{name:>22}: max |ours - system| / (u|A||B|) = {ratio:8.3f} (bound {bound:.0f}), "
                      f"{'reached the library' if reached else 'NOT traced'}: {'agree' if agree else 'DISAGREE'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
