#!/usr/bin/env python3
"""PyTorch's CPU conv2d (oneDNN) on the layers the convolution benchmarks run, for a side-by-side
comparison with the `conv` family's variants.

    python3 Benchmarks/peers/torch_conv.py [--kinds stem,conv3x3,conv1x1,depthwise] [--batches 1,8]
        [--layouts nchw,nhwc] [--threads 1,2] [--repeats 30] [--min-time 0.2]

The layers are Sources/Kernels/Convolution/ConvolutionWorkloads.swift's, listed again below (keep
the two lists the same): ResNet-50's stem, stride-1 3×3 layers and 1×1 layers, and MobileNet-v2's
depthwise 3×3 layers, Float32, bias included, at batch 1 and 8.

How the inputs match ours: a convolution's running time does not depend on the values (dense
arithmetic, no data-dependent branches; values uniform in [-1, 1) as ours are, so no subnormal
numbers arise), so the inputs here are drawn from torch's own seeded generator, not rebuilt from
Crosscheck's. What is identical is what the time depends on: the shapes, the element type, and
the memory format — NCHW is PyTorch's default contiguous format; NHWC is torch.channels_last for
the input and the weights (PyTorch then returns a channels_last output), the same memory order as
the NHWC kernels' [N][H][W][C] activations and [C_out][kh][kw][C_in/G] weights.

Each row: the median of `--repeats` calls (at least `--min-time` seconds of calls) after a warm-up,
and the throughput in direct-convolution flops, 2·N·C_out·H_out·W_out·(C_in/G)·kh·kw per call —
the unit the `conv` family reports every variant in (oneDNN may run a Winograd or other fast
algorithm; its rate in these units can then exceed the machine's FMA peak). Thread counts are set
with torch.set_num_threads. Output: CSV on stdout, one header row; the PyTorch version and oneDNN
availability on stderr.
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# (network, name, kind, C_in, C_out, H = W, kernel, stride, padding, groups), as in
# ConvolutionWorkloads.swift.
RESNET50 = [
    ("resnet50", "conv1", "stem", 3, 64, 224, 7, 2, 3, 1),
    ("resnet50", "layer1.0.conv2", "conv3x3", 64, 64, 56, 3, 1, 1, 1),
    ("resnet50", "layer2.1.conv2", "conv3x3", 128, 128, 28, 3, 1, 1, 1),
    ("resnet50", "layer3.1.conv2", "conv3x3", 256, 256, 14, 3, 1, 1, 1),
    ("resnet50", "layer4.1.conv2", "conv3x3", 512, 512, 7, 3, 1, 1, 1),
    ("resnet50", "layer1.1.conv1", "conv1x1", 256, 64, 56, 1, 1, 0, 1),
    ("resnet50", "layer1.0.conv3", "conv1x1", 64, 256, 56, 1, 1, 0, 1),
    ("resnet50", "layer2.1.conv3", "conv1x1", 128, 512, 28, 1, 1, 0, 1),
    ("resnet50", "layer3.1.conv1", "conv1x1", 1024, 256, 14, 1, 1, 0, 1),
    ("resnet50", "layer4.1.conv3", "conv1x1", 512, 2048, 7, 1, 1, 0, 1),
]
MOBILENET_V2_DEPTHWISE = [
    ("mobilenet_v2", f"features.{feature}.dw", "depthwise", c, c, size, 3, stride, 1, c)
    for feature, c, size, stride in [(1, 32, 112, 1), (2, 96, 112, 2), (3, 144, 56, 1), (5, 192, 28, 1),
                                     (8, 384, 14, 1), (12, 576, 14, 1), (15, 960, 7, 1)]
]
LAYERS = RESNET50 + MOBILENET_V2_DEPTHWISE


def output_size(i, k, s, p):
    return (i + 2 * p - (k - 1) - 1) // s + 1


def time_layer(layer, batch, layout, threads, repeats, min_time, generator):
    network, name, kind, c_in, c_out, size, k, s, p, groups = layer
    torch.set_num_threads(threads)
    x = torch.rand(batch, c_in, size, size, generator=generator) * 2 - 1
    w = torch.rand(c_out, c_in // groups, k, k, generator=generator) * 2 - 1
    b = torch.rand(c_out, generator=generator) * 2 - 1
    if layout == "nhwc":
        x = x.contiguous(memory_format=torch.channels_last)
        w = w.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        for _ in range(3):
            F.conv2d(x, w, b, stride=s, padding=p, groups=groups)
        times = []
        started = time.perf_counter()
        while len(times) < repeats or time.perf_counter() - started < min_time:
            t0 = time.perf_counter_ns()
            F.conv2d(x, w, b, stride=s, padding=p, groups=groups)
            times.append(time.perf_counter_ns() - t0)
    median = statistics.median(times)
    out = output_size(size, k, s, p)
    flops = 2 * batch * c_out * out * out * (c_in // groups) * k * k
    return median, flops


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="stem,conv3x3,conv1x1,depthwise", help="layer kinds to run")
    parser.add_argument("--layers", default="", help="comma-separated layer names (default: all of --kinds)")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--layouts", default="nchw,nhwc")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds of timed calls per row, at least")
    args = parser.parse_args()
    kinds = set(args.kinds.split(","))
    names = set(filter(None, args.layers.split(",")))
    print(f"# torch {torch.__version__}, mkldnn available: {torch.backends.mkldnn.is_available()}", file=sys.stderr)
    generator = torch.Generator().manual_seed(42)
    print("network,layer,kind,batch,layout,threads,median_ns,flops,gflops")
    for layer in LAYERS:
        if layer[2] not in kinds or (names and layer[1] not in names):
            continue
        for batch in map(int, args.batches.split(",")):
            for layout in args.layouts.split(","):
                for threads in map(int, args.threads.split(",")):
                    median, flops = time_layer(layer, batch, layout, threads, args.repeats, args.min_time, generator)
                    print(f"{layer[0]},{layer[1]},{layer[2]},{batch},{layout},{threads},{median:.0f},{flops},{flops / median:.2f}",
                          flush=True)


if __name__ == "__main__":
    main()
