#!/usr/bin/env python3
"""Small .safetensors files written by the Python `safetensors` package, for the Swift reader's tests.

Run from the repository root:  python3 reference/safetensors/make_examples.py
Writes, in reference/safetensors/:
  examples.safetensors       F32, F16, BF16, F64 and I64 tensors with __metadata__ {"format": "pt"}
  sharded/model-0000{1,2}-of-00002.safetensors + model.safetensors.index.json
  examples.json              every tensor's dtype, shape and values (as float64), for the tests
"""
import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    g = torch.Generator().manual_seed(1125)
    tensors = {
        "encoder.linear.weight": torch.randn(3, 5, generator=g, dtype=torch.float32),
        "encoder.half": torch.randn(4, generator=g).to(torch.float16),
        "encoder.brain": torch.randn(2, 3, generator=g).to(torch.bfloat16),
        "head.double": torch.randn(2, 2, generator=g, dtype=torch.float64),
        "ids": torch.tensor([3, -7, 11], dtype=torch.int64),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }
    save_file(tensors, os.path.join(HERE, "examples.safetensors"), metadata={"format": "pt"})
    os.makedirs(os.path.join(HERE, "sharded"), exist_ok=True)
    shard1 = {"layer.0.weight": torch.randn(2, 3, generator=g), "layer.0.bias": torch.randn(2, generator=g)}
    shard2 = {"layer.1.weight": torch.randn(3, 2, generator=g)}
    save_file(shard1, os.path.join(HERE, "sharded", "model-00001-of-00002.safetensors"), metadata={"format": "pt"})
    save_file(shard2, os.path.join(HERE, "sharded", "model-00002-of-00002.safetensors"), metadata={"format": "pt"})
    index = {"metadata": {"total_size": 0}, "weight_map": {
        **{k: "model-00001-of-00002.safetensors" for k in shard1},
        **{k: "model-00002-of-00002.safetensors" for k in shard2}}}
    with open(os.path.join(HERE, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
    described = {}
    for name, t in {**tensors, **shard1, **shard2}.items():
        described[name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                           "values": [float(x) for x in t.double().flatten().tolist()]}
    with open(os.path.join(HERE, "examples.json"), "w") as f:
        json.dump({"generator": "reference/safetensors/make_examples.py", "tensors": described}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
