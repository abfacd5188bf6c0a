#!/usr/bin/env python3
"""PyTorch's CPU upsampling and pixel shuffle on the shapes `bench --filter upsample` times, for a
side-by-side comparison with the Kernels/Upsampling variants.

    python3 Benchmarks/peers/torch_upsample.py [--threads 1,2] [--layouts nchw] [--filter bilinear]
                                               [--min-time 0.3] [--same-values SEED]

Cases (shape N x C x H x W, Float32):
  nearest, nearest-exact, bilinear (align_corners False and True) and bicubic at scale factor 2
  on 1x64x256x256 and 8x3x512x512; pixel_shuffle r=2 on 1x256x128x128 and r=3 on
  1x288x128x128, and pixel_unshuffle back from their outputs.

Each case is timed two ways, one CSV row each:
  call=functional  F.interpolate / F.pixel_shuffle as users call them: every call allocates its
                   output (fresh pages from the OS for outputs this large, so page faults count);
  call=out         the same ATen operator writing into a preallocated output tensor
                   (torch._C._nn.upsample_*2d(..., out=y), torch.ops.aten.pixel_shuffle.out), which
                   is what the Swift kernels do (they write into a caller's buffer).
Both map by the given scale factor, as interpolate does with recompute_scale_factor=None.
Time per call is the median over samples of at least --min-time / 10 seconds each (10 samples,
after a warm-up call); GB/s counts the input read once and the output written once, the same
bytes the Swift suite reports: 4 * (numel(input) + numel(output)) / time.

Inputs: by default seeded uniform values in [-1, 1) from NumPy's generator. The timing of these
operators does not depend on the values (no data-dependent branches; uniform values in [-1, 1)
produce no subnormals), only on the shape, the dtype and the memory layout, which are the same as
ours: contiguous float32 tensors, NCHW (torch.contiguous_format) or NHWC
(torch.channels_last) -- contiguity matters, a non-contiguous input would add a copy. To use
exactly the Swift suite's values, pass --same-values SEED: the script then draws them from a
reimplementation of the project's SeededGenerator (Sources/SeededRandom/SeededGenerator.swift:
xoshiro256** seeded by SplitMix64, nextSigned() = (next() >> 11) * 2^-52 - 1), in pure Python
(about 10 s per 10^7 values).
"""
import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from seeded_generator import SeededGenerator

UPSAMPLE_SHAPES = [(1, 64, 256, 256), (8, 3, 512, 512)]
SHUFFLE_CASES = [((1, 256, 128, 128), 2), ((1, 288, 128, 128), 3)]
MODES = [  # name, torch mode, align_corners, ATen operator for call=out
    ("nearest", "nearest", None, lambda x, size, ac, s, out: torch._C._nn.upsample_nearest2d(x, size, s, s, out=out)),
    ("nearest-exact", "nearest-exact", None,
     lambda x, size, ac, s, out: torch._C._nn._upsample_nearest_exact2d(x, size, s, s, out=out)),
    ("bilinear", "bilinear", False,
     lambda x, size, ac, s, out: torch._C._nn.upsample_bilinear2d(x, size, ac, s, s, out=out)),
    ("bilinear-ac", "bilinear", True,
     lambda x, size, ac, s, out: torch._C._nn.upsample_bilinear2d(x, size, ac, s, s, out=out)),
    ("bicubic", "bicubic", False,
     lambda x, size, ac, s, out: torch._C._nn.upsample_bicubic2d(x, size, ac, s, s, out=out)),
]


def make_input(shape, layout, args, rng):
    count = int(np.prod(shape))
    if args.same_values is not None:
        values = SeededGenerator(args.same_values).uniform(count).astype(np.float32)
    else:
        values = rng.uniform(-1, 1, count).astype(np.float32)
    x = torch.from_numpy(values.reshape(shape))
    return x.contiguous(memory_format=torch.channels_last) if layout == "nhwc" else x.contiguous()


def median_ns(call, min_time):
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    iterations = max(1, int(min_time / 10 / once))
    samples = []
    for _ in range(10):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            call()
        samples.append((time.perf_counter_ns() - start) / iterations)
    return statistics.median(samples)


def row(kind, variant, shape, layout, threads, call, ns, bytes_moved):
    print(f"{kind},{variant},{'x'.join(map(str, shape))},{layout},{threads},{call},{ns:.0f},{bytes_moved / ns:.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--layouts", default="nchw")
    parser.add_argument("--filter", default="", help="substring of the kernel/variant name")
    parser.add_argument("--min-time", type=float, default=0.3, help="seconds per case and call kind")
    parser.add_argument("--same-values", type=int, default=None, metavar="SEED")
    args = parser.parse_args()
    rng = np.random.default_rng(20261128)
    print("kernel,variant,shape,layout,threads,call,median_ns,gbps")
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for layout in args.layouts.split(","):
            memory_format = torch.channels_last if layout == "nhwc" else torch.contiguous_format
            for shape in UPSAMPLE_SHAPES:
                x = make_input(shape, layout, args, rng)
                for name, mode, align, operator in MODES:
                    if args.filter not in f"upsample/{name}":
                        continue
                    kwargs = {"align_corners": align} if align is not None else {}
                    size = [shape[2] * 2, shape[3] * 2]
                    out = torch.empty(shape[:2] + tuple(size)).contiguous(memory_format=memory_format)
                    bytes_moved = 4 * (x.numel() + out.numel())
                    ns = median_ns(lambda: F.interpolate(x, scale_factor=2.0, mode=mode, **kwargs), args.min_time)
                    row("upsample", f"{name}-x2", shape, layout, threads, "functional", ns, bytes_moved)
                    ns = median_ns(lambda: operator(x, size, align, 2.0, out), args.min_time)
                    row("upsample", f"{name}-x2", shape, layout, threads, "out", ns, bytes_moved)
            for shape, r in SHUFFLE_CASES:
                x = make_input(shape, layout, args, rng)
                out_shape = (shape[0], shape[1] // (r * r), shape[2] * r, shape[3] * r)
                y = torch.empty(out_shape).contiguous(memory_format=memory_format)
                back = torch.empty(shape).contiguous(memory_format=memory_format)
                bytes_moved = 8 * x.numel()
                if args.filter in f"pixelshuffle/shuffle-r{r}":
                    ns = median_ns(lambda: F.pixel_shuffle(x, r), args.min_time)
                    row("pixelshuffle", f"shuffle-r{r}", shape, layout, threads, "functional", ns, bytes_moved)
                    ns = median_ns(lambda: torch.ops.aten.pixel_shuffle.out(x, r, out=y), args.min_time)
                    row("pixelshuffle", f"shuffle-r{r}", shape, layout, threads, "out", ns, bytes_moved)
                if args.filter in f"pixelshuffle/unshuffle-r{r}":
                    shuffled = F.pixel_shuffle(x, r).contiguous(memory_format=memory_format)
                    ns = median_ns(lambda: F.pixel_unshuffle(shuffled, r), args.min_time)
                    row("pixelshuffle", f"unshuffle-r{r}", out_shape, layout, threads, "functional", ns, bytes_moved)
                    ns = median_ns(lambda: torch.ops.aten.pixel_unshuffle.out(shuffled, r, out=back), args.min_time)
                    row("pixelshuffle", f"unshuffle-r{r}", out_shape, layout, threads, "out", ns, bytes_moved)


if __name__ == "__main__":
    main()
