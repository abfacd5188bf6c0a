#!/usr/bin/env python3
"""PyTorch's soft target update on the vectors `bench --filter polyak` uses, for a side-by-side
comparison with the `simd` and `parallel` variants.

    python3 Benchmarks/peers/torch_polyak.py [--sizes 10000,1000000,10000000,100000000] [--tau 0.005] [--repeats 20]

Two PyTorch forms of theta' <- tau*theta + (1 - tau)*theta' on float32 tensors, in place:
- `lerp`: target.lerp_(online, tau) (what torch.optim.swa_utils and many RL libraries use;
  ATen evaluates target + tau*(online - target) for tau < 0.5);
- `mul-add`: target.mul_(1 - tau).add_(online, alpha=tau) (the DDPG paper's formula, two passes).

Inputs: theta uniform in [-1, 1) and theta' = theta + 0.01*uniform(-1, 1), the distribution of
Kernels' softUpdateInputs, drawn from torch's own seeded generator rather than Crosscheck's
SeededGenerator (generating 10^8 values through a Python reimplementation of xoshiro256** would
take minutes). The time of an elementwise update does not depend on the values (none is
subnormal), so the timings compare; the values are not compared with ours. For each form the
script also reports the error ratio of our model, max |result - y| / (u*(tau|theta| +
(1-tau)|theta'|) + 2^-149) with y in float64, which the Swift variants keep below 3 (textbook)
and 2 (fused). Prints one CSV row per size, form and thread count: the median time over
--repeats calls (each on the same buffers), GB/s at 12 bytes per element, and that ratio.
"""
import argparse
import time

import torch


def error_ratio(result, target, online, tau):
    y = tau * online.double() + (1 - tau) * target.double()
    magnitude = tau * online.double().abs() + (1 - tau) * target.double().abs()
    ratio = (result.double() - y).abs() / (2.0**-24 * magnitude + 2.0**-149)
    return ratio.max().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000,10000000,100000000")
    parser.add_argument("--tau", type=float, default=0.005)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(20261128)
    forms = {
        "lerp": lambda t, o, tau: t.lerp_(o, tau),
        "mul-add": lambda t, o, tau: t.mul_(1 - tau).add_(o, alpha=tau),
    }
    print("size,form,threads,median_ns,gbps,err_ratio")
    for n in (int(s) for s in args.sizes.split(",")):
        online = torch.rand(n, generator=generator) * 2 - 1
        initial = online + 0.01 * (torch.rand(n, generator=generator) * 2 - 1)
        for name, form in forms.items():
            checked = initial.clone()
            form(checked, online, args.tau)
            ratio = error_ratio(checked, initial, online, args.tau)
            for threads in (1, 2):
                torch.set_num_threads(threads)
                target = initial.clone()
                form(target, online, args.tau)
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter_ns()
                    form(target, online, args.tau)
                    times.append(time.perf_counter_ns() - start)
                median = sorted(times)[len(times) // 2]
                print(f"{n},{name},{threads},{median},{12 * n / median:.2f},{ratio:.3f}")


if __name__ == "__main__":
    main()
