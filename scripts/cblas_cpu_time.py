#!/usr/bin/env python3
"""Times cblas_sgemm/cblas_dgemm of a CBLAS library by the calling thread's CPU time, for tuning on
a loaded machine, where wall-clock medians swing twofold: CPU time leaves out the time the thread
waited for a core (it still counts memory stalls). One thread only: the library must be told to
use one (OPENBLAS_NUM_THREADS=1, BLIS_NUM_THREADS=1, CROSSCHECK_BLAS_THREADS=1), since the other
threads' time is not counted. Row-major C = A·B with A (m × k), B (k × n) standard normal
(seed 1, the same inputs for every library) and β = 0; prints the minimum CPU and wall time
over the repetitions and the largest error against NumPy's float64 product.

    OPENBLAS_NUM_THREADS=1 scripts/cblas_cpu_time.py /usr/lib/x86_64-linux-gnu/libopenblas.so.0 16x4096x4096 --dtype f64
    CROSSCHECK_BLAS_THREADS=1 scripts/cblas_cpu_time.py .build/debug/libCrosscheckBLAS.so 16x4096x4096 --dtype f64
"""
import argparse
import ctypes
import os
import sys
import time

import numpy as np

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("library", help="path of a shared library exporting cblas_sgemm and cblas_dgemm")
ap.add_argument("shapes", help="comma-separated MxNxK, e.g. 16x4096x4096,32x1024x4096")
ap.add_argument("--dtype", choices=["f32", "f64"], default="f64")
ap.add_argument("--seconds", type=float, default=1.0, help="time spent per shape (default 1)")
args = ap.parse_args()
if not os.path.isfile(args.library):
    sys.exit(f"cblas_cpu_time.py: {args.library}: not a file")
try:
    lib = ctypes.CDLL(args.library, mode=os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 8))
    gemm = lib.cblas_dgemm if args.dtype == "f64" else lib.cblas_sgemm
except (OSError, AttributeError) as error:
    sys.exit(f"cblas_cpu_time.py: {args.library}: {error}")
scalar = ctypes.c_double if args.dtype == "f64" else ctypes.c_float
dtype = np.float64 if args.dtype == "f64" else np.float32
gemm.argtypes = [ctypes.c_int] * 6 + [scalar, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, scalar, ctypes.c_void_p, ctypes.c_int]
for shape in args.shapes.split(","):
    try:
        m, n, k = (int(x) for x in shape.split("x"))
        if min(m, n, k) < 1:
            raise ValueError
    except ValueError:
        sys.exit(f"cblas_cpu_time.py: shape '{shape}': expected MxNxK with positive integers")
    elements = m * k + k * n + 2 * m * n  # A, B, C and the float64 check
    if elements * 8 > os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2:
        sys.exit(f"cblas_cpu_time.py: shape '{shape}': its matrices take {elements * 8 / 2**30:.1f} GiB, over half the memory")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = np.zeros((m, n), dtype)

    def call():
        gemm(101, 111, 111, m, n, k, 1.0, a.ctypes.data, k, b.ctypes.data, n, 0.0, c.ctypes.data, n)

    call()
    best_cpu = best_wall = float("inf")
    deadline = time.perf_counter() + args.seconds
    repetitions = 0
    while repetitions < 3 or time.perf_counter() < deadline:
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        call()
        c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
        best_cpu, best_wall = min(best_cpu, c1 - c0), min(best_wall, w1 - w0)
        repetitions += 1
    error = np.abs(c - a.astype(np.float64) @ b.astype(np.float64)).max()
    print(f"{shape} {args.dtype}: cpu {best_cpu / 1e6:.3f} ms, wall {best_wall / 1e6:.3f} ms "
          f"({2 * m * n * k / best_cpu:.1f} GFLOP/s of CPU time), {repetitions} calls, max error {error:.2g}")
