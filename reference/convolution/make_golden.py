#!/usr/bin/env python3
"""Golden convolutions for the convolution tests, computed by PyTorch.

Run from the repository root:  python3 reference/convolution/make_golden.py
Writes reference/convolution/golden.json.

Inputs, weights and biases come from NumPy's seeded generator as float32 values, written in the
shortest decimal form that reads back as the same float32 (read them as Float). The expected
outputs are computed by torch.nn.functional.conv2d / conv_transpose2d on float64 copies of those
values, so they are far more accurate than any float32 kernel, and written in full.

Tensors are stored in NCHW order (PyTorch's default): input [N][C_in][H][W]; weight
[C_out][C_in/G][kh][kw] for conv2d and [C_in][C_out/G][kh][kw] for conv_transpose2d; output
[N][C_out][H_out][W_out]. The tests check the NHWC kernels on the same data permuted to
torch.channels_last memory order (x.permute(0, 2, 3, 1) for activations, w.permute(0, 2, 3, 1) for
weights); the script asserts that PyTorch on channels_last tensors gives the same outputs.

Sizes are small and odd; the conv2d cases cover every combination of stride {1, 2}, padding
{0, 1}, dilation {1, 2} and groups {1, 2, depthwise}, with and without bias, plus edge shapes
(1x1 images, one channel, prime sizes, non-square kernels and arguments, 1x1 kernels read in
place). The conv_transpose2d cases cover stride {1, 2, 3}, padding {0, 1}, output_padding below
stride or dilation, dilation {1, 2} and groups {1, 2} (groups 2 with dilation 1), plus edge shapes.
"""
import itertools
import json

import numpy as np
import torch
import torch.nn.functional as F


def conv_cases():
    cases = []
    for stride, padding, dilation, groups in itertools.product([1, 2], [0, 1], [1, 2], [1, 2, "dw"]):
        c_in = 4
        c_out = 4
        g = c_in if groups == "dw" else groups
        bias = (stride + padding + dilation) % 2 == 0
        name = f"s{stride}-p{padding}-d{dilation}-g{groups}" + ("-bias" if bias else "")
        cases.append(dict(name=name, n=1, c_in=c_in, h=5, w=7, c_out=c_out, kh=3, kw=3,
                          stride=(stride, stride), padding=(padding, padding), dilation=(dilation, dilation),
                          groups=g, bias=bias))
    cases += [
        dict(name="image-1x1-pad1", n=1, c_in=3, h=1, w=1, c_out=2, kh=3, kw=3, stride=(1, 1), padding=(1, 1),
             dilation=(1, 1), groups=1, bias=True),
        dict(name="channels-1", n=1, c_in=1, h=5, w=7, c_out=1, kh=3, kw=3, stride=(1, 1), padding=(1, 1),
             dilation=(1, 1), groups=1, bias=False),
        dict(name="primes", n=2, c_in=5, h=7, w=11, c_out=7, kh=3, kw=5, stride=(2, 3), padding=(1, 2),
             dilation=(1, 1), groups=1, bias=True),
        dict(name="pointwise-in-place", n=2, c_in=6, h=5, w=3, c_out=9, kh=1, kw=1, stride=(1, 1), padding=(0, 0),
             dilation=(1, 1), groups=3, bias=True),
        dict(name="pointwise-strided", n=1, c_in=4, h=7, w=7, c_out=5, kh=1, kw=1, stride=(2, 2), padding=(0, 0),
             dilation=(1, 1), groups=1, bias=False),
        dict(name="non-square", n=1, c_in=3, h=9, w=6, c_out=4, kh=2, kw=4, stride=(1, 2), padding=(0, 2),
             dilation=(2, 1), groups=1, bias=True),
        dict(name="stem-7x7-s2", n=1, c_in=3, h=13, w=11, c_out=8, kh=7, kw=7, stride=(2, 2), padding=(3, 3),
             dilation=(1, 1), groups=1, bias=False),
        dict(name="winograd-3x3", n=2, c_in=5, h=7, w=9, c_out=6, kh=3, kw=3, stride=(1, 1), padding=(1, 1),
             dilation=(1, 1), groups=1, bias=True),
        dict(name="winograd-groups", n=1, c_in=6, h=10, w=7, c_out=4, kh=3, kw=3, stride=(1, 1), padding=(2, 0),
             dilation=(1, 1), groups=2, bias=False),
        dict(name="depthwise-multiplier-2", n=1, c_in=3, h=6, w=5, c_out=6, kh=3, kw=3, stride=(1, 1), padding=(1, 1),
             dilation=(1, 1), groups=3, bias=True),
        dict(name="kernel-fills-input", n=1, c_in=2, h=3, w=3, c_out=3, kh=3, kw=3, stride=(1, 1), padding=(0, 0),
             dilation=(1, 1), groups=1, bias=True),
    ]
    return cases


def transposed_cases():
    cases = []
    for stride, padding, output_padding, dilation, groups in itertools.product([1, 2, 3], [0, 1], [0, 1], [1, 2], [1, 2]):
        if output_padding >= stride and output_padding >= dilation:
            continue  # PyTorch rejects it
        if groups == 2 and dilation == 2:
            continue  # groups are covered with dilation 1; keeps the file small
        bias = (stride + padding + dilation) % 2 == 1
        name = f"s{stride}-p{padding}-op{output_padding}-d{dilation}-g{groups}" + ("-bias" if bias else "")
        cases.append(dict(name=name, n=1, c_in=4, h=4, w=3, c_out=4, kh=3, kw=3, stride=(stride, stride),
                          padding=(padding, padding), output_padding=(output_padding, output_padding),
                          dilation=(dilation, dilation), groups=groups, bias=bias))
    cases += [
        dict(name="upsample-2x-k4", n=1, c_in=3, h=4, w=5, c_out=2, kh=4, kw=4, stride=(2, 2), padding=(1, 1),
             output_padding=(0, 0), dilation=(1, 1), groups=1, bias=True),
        dict(name="non-square", n=1, c_in=2, h=3, w=4, c_out=3, kh=2, kw=3, stride=(3, 2), padding=(0, 1),
             output_padding=(2, 1), dilation=(1, 1), groups=1, bias=False),
        dict(name="image-1x1", n=1, c_in=1, h=1, w=1, c_out=1, kh=3, kw=3, stride=(1, 1), padding=(0, 0),
             output_padding=(0, 0), dilation=(1, 1), groups=1, bias=True),
    ]
    return cases


def float32s(array):
    """float32 values as the doubles nearest their shortest float32 decimal forms, which JSON
    writes in that short form and which read back (as Float) to the same float32 values."""
    return [float(np.format_float_positional(x, unique=True)) for x in np.asarray(array, dtype=np.float32).ravel()]


def floats(array):
    return [float(x) for x in np.asarray(array).ravel()]


def make(rng, spec, transposed):
    groups = spec["groups"]
    x = rng.uniform(-1, 1, (spec["n"], spec["c_in"], spec["h"], spec["w"])).astype(np.float32)
    if transposed:
        w_shape = (spec["c_in"], spec["c_out"] // groups, spec["kh"], spec["kw"])
    else:
        w_shape = (spec["c_out"], spec["c_in"] // groups, spec["kh"], spec["kw"])
    w = rng.uniform(-1, 1, w_shape).astype(np.float32)
    b = rng.uniform(-1, 1, spec["c_out"]).astype(np.float32) if spec["bias"] else None

    def run(x64, w64, b64):
        if transposed:
            return F.conv_transpose2d(x64, w64, b64, stride=spec["stride"], padding=spec["padding"],
                                      output_padding=spec["output_padding"], groups=groups, dilation=spec["dilation"])
        return F.conv2d(x64, w64, b64, stride=spec["stride"], padding=spec["padding"], dilation=spec["dilation"],
                        groups=groups)

    x64, w64 = torch.from_numpy(x).double(), torch.from_numpy(w).double()
    b64 = torch.from_numpy(b).double() if b is not None else None
    y = run(x64, w64, b64)
    y_channels_last = run(x64.contiguous(memory_format=torch.channels_last), w64.contiguous(memory_format=torch.channels_last), b64)
    assert torch.allclose(y, y_channels_last, rtol=1e-12, atol=1e-12), spec["name"]
    case = dict(spec)
    case.update(
        bias=float32s(b) if b is not None else None,
        output_shape=list(y.shape),
        input=float32s(x), weight=float32s(w), expected=floats(y.numpy()),
    )
    return case


def main():
    rng = np.random.default_rng(20261128)
    torch.use_deterministic_algorithms(True)
    data = {
        "generator": "reference/convolution/make_golden.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "conv2d": [make(rng, spec, transposed=False) for spec in conv_cases()],
        "conv_transpose2d": [make(rng, spec, transposed=True) for spec in transposed_cases()],
    }
    with open("reference/convolution/golden.json", "w") as f:
        json.dump(data, f)
        f.write("\n")


if __name__ == "__main__":
    main()
