#!/usr/bin/env python3
"""Golden output sizes for the convolution arithmetic tests, from PyTorch's own shape inference.

Run from the repository root:  python3 reference/receptive_field/make_golden.py
Writes reference/receptive_field/golden.json.

For every combination below, a square 1x1xIxI tensor goes through torch.nn.functional.conv2d,
max_pool2d (ceil_mode False and True) or conv_transpose2d with the same kernel, stride, padding,
dilation (and output_padding) on both axes, and the script records the output height or, when
PyTorch rejects the combination, which check failed: the error message is classified into one of
the kinds below (the first message of each kind is stored verbatim in "messages").

oneDNN is switched off (torch.backends.mkldnn.enabled = False) so that PyTorch's own shape checks
run: with it on, a conv_transpose2d whose output would be negative fails inside oneDNN with "could not
construct a memory descriptor" instead of PyTorch's "Output size is too small".

Only shapes are recorded; the tensors are zeros. Each case is a row
  [input, kernel, stride, padding, dilation, extra, output, error]
where extra is ceil_mode (0/1) for max_pool2d and output_padding for conv_transpose2d (0 for
conv2d), output is the output size or null, and error is an error kind or null.
"""
import itertools
import json
import re

import torch
import torch.nn.functional as F

# PyTorch's messages, mapped to the kinds ConvolutionArithmeticError reports.
KINDS = [
    (r"non-positive stride|stride should not be zero|stride should be greater than zero", "stride_not_positive"),
    (r"dilation should be greater than zero", "dilation_not_positive"),
    (r"kernel size should be greater than zero", "kernel_not_positive"),
    (r"negative output_padding", "output_padding_negative"),
    (r"negative padding|pad must be non-negative", "padding_negative"),
    (r"pad should be at most half of effective kernel size|pad should be smaller than or equal to half", "pool_padding_exceeds_half_kernel"),
    (r"Kernel size can't be greater than actual input size", "kernel_exceeds_padded_input"),
    (r"output padding must be smaller than either stride or dilation", "output_padding_too_large"),
    (r"Output size is too small", "output_too_small"),
]


def classify(message):
    for pattern, kind in KINDS:
        if re.search(pattern, message):
            return kind
    raise RuntimeError(f"unclassified PyTorch error: {message}")


def run(op, i, k, s, p, d, extra):
    x = torch.zeros(1, 1, i, i)
    if op == "conv2d":
        return F.conv2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
    if op == "max_pool2d":
        return F.max_pool2d(x, k, stride=s, padding=p, dilation=d, ceil_mode=bool(extra)).shape[-1]
    return F.conv_transpose2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p, output_padding=extra, dilation=d).shape[-1]


GRIDS = {
    # op: (inputs, kernels, strides, paddings, dilations, extras)
    "conv2d": ([1, 2, 3, 5, 8, 13], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2, 3], [1, 2, 3], [0]),
    "max_pool2d": ([1, 2, 3, 4, 5, 6, 7, 9, 16], [1, 2, 3, 4, 5], [1, 2, 3], [0, 1, 2], [1, 2], [0, 1]),
    "conv_transpose2d": ([1, 2, 3, 5], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2, 3], [1, 2], [0, 1, 2]),
}

# One violated argument each: zero or negative stride, dilation, kernel, padding, output_padding.
INVALID = {
    "conv2d": [(5, 3, 0, 0, 1, 0), (5, 3, -1, 0, 1, 0), (5, 3, 1, 0, 0, 0), (5, 3, 1, -1, 1, 0)],
    "max_pool2d": [(5, 3, 0, 0, 1, 0), (5, 3, -2, 0, 1, 0), (5, 0, 1, 0, 1, 0), (5, 3, 1, -1, 1, 0),
                   (5, 3, 1, 0, 0, 0), (5, 3, 1, 0, -1, 1)],
    "conv_transpose2d": [(5, 3, 0, 0, 1, 0), (5, 3, 1, -1, 1, 0), (5, 3, 1, 0, 0, 0),
                         (5, 3, 2, 0, 1, -1), (5, 3, 2, 0, 3, 3), (5, 3, 3, 0, 1, 3)],
}


def main():
    torch.backends.mkldnn.enabled = False
    result = {"torch_version": torch.__version__, "messages": {}, "ops": {}}
    for op, grid in GRIDS.items():
        rows = []
        combos = list(itertools.product(*grid)) + INVALID[op]
        for i, k, s, p, d, extra in combos:
            try:
                rows.append([i, k, s, p, d, extra, int(run(op, i, k, s, p, d, extra)), None])
            except RuntimeError as error:
                message = str(error).splitlines()[0]
                kind = classify(message)
                result["messages"].setdefault(kind, message)
                rows.append([i, k, s, p, d, extra, None, kind])
        result["ops"][op] = rows
    with open("reference/receptive_field/golden.json", "w") as f:
        json.dump(result, f, separators=(",", ":"))
        f.write("\n")
    for op, rows in result["ops"].items():
        print(op, len(rows), "cases,", sum(r[7] is not None for r in rows), "rejected")


if __name__ == "__main__":
    main()
