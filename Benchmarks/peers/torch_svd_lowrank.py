#!/usr/bin/env python3
"""PyTorch's torch.svd_lowrank on the same matrices `bench --filter svd` uses, for a side-by-side
comparison with the `randomized` variant.

    python3 Benchmarks/peers/torch_svd_lowrank.py [--sizes 1024x1024] [--rank 16] [--q 26] [--niter 2]

The matrix is rebuilt as Benchmarks/Suites/SVDSuite.swift builds it (the same values up to the
rounding of two LAPACK builds' QR): Gaussian U and V from
Crosscheck's SeededGenerator (xoshiro256** seeded by SplitMix64, Box–Muller; seeded_generator.py), orthonormalized by
LAPACK's Householder QR (NumPy's qr calls the same dgeqrf/dorgqr), A = U·diag(1/√(i+1))·Vᵀ in
float64, rounded to float32. Prints one CSV row per size and thread count: median time over
`--repeats` calls, the Eckart–Young ratio at rank r (truncating torch's q components to r), and
the largest relative error of the top r singular values.
"""
import argparse
import math
import time

import numpy as np
import torch

from seeded_generator import SeededGenerator


def known_spectrum_matrix(m, n, seed=7):
    k = min(m, n)
    sigma = 1.0 / np.sqrt(np.arange(k) + 1.0)
    g = SeededGenerator(seed)
    u = g.gaussian(m * k).reshape(m, k)
    v = g.gaussian(n * k).reshape(n, k)
    u, _ = np.linalg.qr(u)
    v, _ = np.linalg.qr(v)
    a = ((u * sigma) @ v.T).astype(np.float32)
    return a, sigma


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1024x1024")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--q", type=int, default=26)
    parser.add_argument("--niter", type=int, default=2)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print("peer,size,threads,rank,q,niter,median_ns,min_ns,eckart_young,sigma_rel_err,torch")
    for size in args.sizes.split(","):
        m, n = (int(x) for x in size.split("x"))
        a, sigma = known_spectrum_matrix(m, n)
        at = torch.from_numpy(a)
        optimal = math.sqrt(float(np.sum(sigma[args.rank:] ** 2)))
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            times = []
            for i in range(args.repeats + 2):
                torch.manual_seed(i)
                start = time.perf_counter_ns()
                u, s, v = torch.svd_lowrank(at, q=args.q, niter=args.niter)
                elapsed = time.perf_counter_ns() - start
                if i >= 2:
                    times.append(elapsed)
            r = args.rank
            approx = (u[:, :r].double() * s[:r].double()) @ v[:, :r].double().T
            achieved = torch.linalg.norm(torch.from_numpy(a).double() - approx).item()
            rel = float(np.max(np.abs(s[:r].double().numpy() - sigma[:r]) / sigma[:r]))
            print(f"torch.svd_lowrank,{size},{threads},{r},{args.q},{args.niter},{int(np.median(times))},{min(times)},"
                  f"{achieved / optimal:.6f},{rel:.3g},{torch.__version__}")


if __name__ == "__main__":
    main()
