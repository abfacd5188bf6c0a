#!/usr/bin/env python3
"""Golden vectors for the upsampling tests, computed by PyTorch on the CPU.

Run from the repository root:  python3 reference/upsampling/make_golden.py
Writes reference/upsampling/golden.json. All values are float32 numbers, stored exactly (as 9 significant
digits, which parse back to the same float32). Image tensors are stored in logical NCHW order whatever the layout
the case was computed in; `layout` says whether PyTorch ran on a channels_last tensor.

Three groups of cases:

- "axes": the sampling of one axis, as a dense matrix of weights (output i reads input k with
  weight W[i][k]), read back from torch.nn.functional.interpolate by feeding one-hot inputs: the
  input has one channel per input position k, x[0, k, :, w] = (w == k), so output channel k holds
  column k of W. Each case is run through both of PyTorch's CPU kernels: "generic" (NCHW, with
  output height + width > 128: height 129 -> 129 when the width is small, which every mode maps
  as the identity) and "channelsLast" (the same one-hot tensor in channels_last memory with at
  least 4 channels). Nearest modes give 0/1 matrices; bilinear weights are float32 values that the
  Swift side must reproduce exactly; bicubic weights come out of PyTorch's float32 polynomial and
  differ from the exact cubic-convolution weights by a few units of 2^-24. Large inputs (coordinates
  in the hundreds) make one-ulp differences in the source coordinate visible.
- "images": interpolate on seeded uniform inputs in [-1, 1) (NumPy's generator; one input per
  shape, in "imageInputs", keyed "NxCxHxW"), every mode x
  align_corners x scale form (integer and non-integer factors with recompute_scale_factor None,
  False and True, explicit sizes, downscaling), NCHW and NHWC, with torch.set_num_threads(1)
  (PyTorch's kernel choice depends on its thread count for 3-channel bilinear; see
  PyTorchUpsampleKernel in Sources/Kernels/Upsampling/UpsampleGeometry.swift).
- "shuffles": pixel_shuffle and pixel_unshuffle on seeded inputs, NCHW and channels_last.
"""
import json

import numpy as np
import torch
import torch.nn.functional as F


def f32(v):
    """A float32 value as the shortest decimal with 9 significant digits: it parses (directly,
    or through float64) back to the same float32, and keeps the file small."""
    return float(f"{float(v):.9g}")

MODES = [  # (name used by the Swift tests, torch mode, align_corners)
    ("nearest", "nearest", None),
    ("nearest-exact", "nearest-exact", None),
    ("bilinear", "bilinear", False),
    ("bilinear-ac", "bilinear", True),
    ("bicubic", "bicubic", False),
    ("bicubic-ac", "bicubic", True),
]


def interpolate(x, mode, align, spec):
    kwargs = {"mode": mode}
    if align is not None:
        kwargs["align_corners"] = align
    if "size" in spec:
        kwargs["size"] = tuple(spec["size"])
    else:
        kwargs["scale_factor"] = tuple(spec["scale_factor"])
        kwargs["recompute_scale_factor"] = spec["recompute"]
    return F.interpolate(x, **kwargs)


def axis_weights(mode, align, in_size, spec_w, kernel):
    """The dense weight matrix of one axis (the width) under PyTorch's `kernel`."""
    out_size = spec_w.get("size")
    if out_size is None:
        out_size = int(in_size * spec_w["scale_factor"])
    height = 1 if out_size >= 128 else 129
    channels = max(in_size, 4)
    x = torch.zeros(1, channels, height, in_size)
    for k in range(in_size):
        x[0, k, :, k] = 1
    if kernel == "channelsLast":
        x = x.contiguous(memory_format=torch.channels_last)
    if "size" in spec_w:
        spec = {"size": [height, spec_w["size"]]}
    else:
        spec = {"scale_factor": [1.0, spec_w["scale_factor"]], "recompute": spec_w["recompute"]}
    y = interpolate(x, mode, align, spec)
    assert y.shape[-1] == out_size
    rows = y[0, :in_size, 0, :].double().numpy().T  # out x in
    return [[[int(k), f32(rows[i, k])] for k in np.nonzero(rows[i])[0]] for i in range(out_size)]


def axis_cases():
    small = [1, 2, 5, 7, 13]
    specs = []
    for f in [2.0, 3.0, 1.5, 2.7, 2.1, 0.6]:
        for recompute in [None, True]:
            specs.append({"scale_factor": f, "recompute": recompute})
    for s in [1, 3, 9, 26]:
        specs.append({"size": s})
    cases = []
    for name, mode, align in MODES:
        for in_size in small:
            for spec in specs:
                out_size = spec.get("size") or int(in_size * spec["scale_factor"])
                if out_size < 1:
                    continue
                for kernel in ["generic", "channelsLast"]:
                    cases.append((name, mode, align, in_size, spec, kernel))
        # Coordinates in the hundreds: a one-ulp change of the source coordinate shows.
        for in_size, spec in [(301, {"scale_factor": 2.7, "recompute": None}), (257, {"scale_factor": 0.7, "recompute": True})]:
            for kernel in ["generic", "channelsLast"]:
                cases.append((name, mode, align, in_size, spec, kernel))
    out = []
    for name, mode, align, in_size, spec, kernel in cases:
        out.append({"mode": name, "kernel": kernel, "input": in_size, "spec": spec,
                    "weights": axis_weights(mode, align, in_size, spec, kernel)})
    return out


def image_cases(rng):
    specs = [
        {"scale_factor": [2.0, 2.0], "recompute": None},
        {"scale_factor": [3.0, 2.0], "recompute": False},
        {"scale_factor": [1.5, 2.7], "recompute": None},
        {"scale_factor": [1.5, 2.7], "recompute": True},
        {"scale_factor": [2.1, 1.01], "recompute": False},
        {"scale_factor": [0.6, 0.8], "recompute": None},
        {"size": [9, 11]},
        {"size": [3, 4]},
    ]
    shapes = [  # (N, C, H, W), layouts
        ((1, 2, 5, 7), ["nchw", "nhwc"]),
        ((2, 5, 3, 4), ["nchw", "nhwc"]),   # NHWC with C > 3: PyTorch's channels-last kernel
        ((1, 3, 4, 5), ["nchw"]),
    ]
    cases = []
    for shape, layouts in shapes:
        for layout in layouts:
            for name, mode, align in MODES:
                for spec in specs:
                    cases.append((shape, layout, name, mode, align, spec))
    # Wide outputs: PyTorch's generic kernel (output height + width > 128) and the vectorized
    # period-2 column path (>= 64 columns) or the channel-vector path (NHWC, C >= 16).
    for name, mode, align in MODES:
        cases.append(((1, 2, 5, 40), "nchw", name, mode, align, {"scale_factor": [2.0, 2.0], "recompute": None}))
        cases.append(((1, 2, 5, 70), "nchw", name, mode, align, {"scale_factor": [1.5, 2.7], "recompute": None}))
        cases.append(((1, 2, 5, 7), "nhwc", name, mode, align, {"size": [9, 130]}))
        cases.append(((1, 20, 3, 5), "nhwc", name, mode, align, {"scale_factor": [2.0, 2.0], "recompute": None}))
    inputs, out = {}, []
    for shape, layout, name, mode, align, spec in cases:
        key = "x".join(map(str, shape))
        if key not in inputs:
            inputs[key] = rng.uniform(-1, 1, shape).astype(np.float32)
        x = torch.from_numpy(inputs[key])
        xin = x.contiguous(memory_format=torch.channels_last) if layout == "nhwc" else x
        y = interpolate(xin, mode, align, spec).contiguous()
        out.append({"mode": name, "layout": layout, "input": key, "spec": spec,
                    "outputShape": list(y.shape),
                    "output": [f32(v) for v in y.numpy().ravel()]})
    return {key: [f32(v) for v in x.ravel()] for key, x in inputs.items()}, out


def shuffle_cases(rng):
    cases = [  # direction, (N, C, H, W), factor
        ("shuffle", (1, 8, 3, 5), 2), ("shuffle", (2, 18, 2, 3), 3), ("shuffle", (1, 32, 2, 3), 4),
        ("shuffle", (1, 8, 3, 37), 2), ("shuffle", (1, 18, 2, 35), 3), ("shuffle", (1, 3, 2, 2), 1),
        ("unshuffle", (1, 2, 6, 10), 2), ("unshuffle", (2, 1, 9, 6), 3), ("unshuffle", (1, 2, 4, 70), 2),
        ("unshuffle", (1, 1, 9, 51), 3), ("unshuffle", (1, 2, 8, 8), 4),
    ]
    out = []
    for direction, shape, r in cases:
        for layout in ["nchw", "nhwc"]:
            x = torch.from_numpy(rng.uniform(-1, 1, shape).astype(np.float32))
            xin = x.contiguous(memory_format=torch.channels_last) if layout == "nhwc" else x
            op = F.pixel_shuffle if direction == "shuffle" else F.pixel_unshuffle
            y = op(xin, r).contiguous()
            out.append({"direction": direction, "layout": layout, "shape": list(shape), "factor": r,
                        "outputShape": list(y.shape),
                        "input": [f32(v) for v in x.numpy().ravel()],
                        "output": [f32(v) for v in y.numpy().ravel()]})
    return out


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20261128)
    golden = {"generator": "reference/upsampling/make_golden.py", "torch": torch.__version__,
              "axes": axis_cases()}
    golden["imageInputs"], golden["images"] = image_cases(rng)
    golden["shuffles"] = shuffle_cases(rng)
    with open("reference/upsampling/golden.json", "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
