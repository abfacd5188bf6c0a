#!/usr/bin/env python3
"""Make a seeded, Llama-shaped (base, tuned) model pair for `lora` at scale: about 1.1 B parameters,
sharded bf16 safetensors with an index, the tuned model's deltas low-rank plus noise on every linear layer.

    python3 Benchmarks/peers/make_llama_pair.py --out /work/lora-scale [--seed 0] [--tiny]

Writes OUT/base and OUT/tuned, each an HF-style LlamaForCausalLM directory (config.json,
model-0000K-of-0000N.safetensors shards of at most --shard-mb, model.safetensors.index.json). The shape is
TinyLlama-1.1B's: hidden 2048, intermediate 5632, 22 layers, 32 attention heads with 4 key-value heads
(grouped-query attention: k_proj and v_proj are 256 x 2048), vocabulary 32000, untied lm_head; 1,100,048,384
parameters, 2.2 GB per model in bf16. `--tiny` makes the same architecture at hidden 64 for quick checks.
The files are not committed (make them under /work/lora-scale or /tmp).

Base: every weight N(0, 0.02^2) (norms 1), drawn from torch.Generator(seed) in the order of the tensor list
below, so the same seed gives the same bytes on every machine. Tuned: base + dW on every linear layer
(q/k/v/o, gate/up/down, lm_head), where for a weight W of shape m x n, with s = 0.1 ||W||_F,

    dW = sum_{i<8} (0.5 s / (i + 1)) u_i v_i^T  +  0.05 s G / ||G||_F

u_i, v_i random unit vectors and G an m x n Gaussian matrix: a rank-8 signal with singular values
0.5 s, 0.25 s, ..., 0.0625 s plus noise of Frobenius norm 0.05 s. The tuned weight is rounded to bf16 once, so
the deltas `lora` and mergekit see are bf16(W + dW) - W, which adds the bf16 rounding of W (relative 2^-9)
to the noise. Measured: the optimal rank-16 relative error is about 0.084 per module, and --energy 0.9 keeps
4 triplets per module (92.5% of the energy). Embeddings and norms are unchanged.
"""
import argparse
import json
import math
import os
import time

import torch
from safetensors.torch import save_file

FULL = dict(hidden=2048, intermediate=5632, layers=22, heads=32, kv_heads=4, vocab=32000)
TINY = dict(hidden=64, intermediate=176, layers=2, heads=4, kv_heads=2, vocab=256)


def tensor_list(c):
    """(name, shape, is_linear) in a fixed order: the order random numbers are drawn in."""
    h, i, hd = c["hidden"], c["intermediate"], c["hidden"] // c["heads"]
    kv = c["kv_heads"] * hd
    out = [("model.embed_tokens.weight", (c["vocab"], h), False)]
    for l in range(c["layers"]):
        p = f"model.layers.{l}."
        out += [(p + "self_attn.q_proj.weight", (h, h), True), (p + "self_attn.k_proj.weight", (kv, h), True),
                (p + "self_attn.v_proj.weight", (kv, h), True), (p + "self_attn.o_proj.weight", (h, h), True),
                (p + "mlp.gate_proj.weight", (i, h), True), (p + "mlp.up_proj.weight", (i, h), True),
                (p + "mlp.down_proj.weight", (h, i), True),
                (p + "input_layernorm.weight", (h,), False), (p + "post_attention_layernorm.weight", (h,), False)]
    out += [("model.norm.weight", (h,), False), ("lm_head.weight", (c["vocab"], h), True)]
    return out


def config_json(c):
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": c["hidden"],
            "intermediate_size": c["intermediate"], "num_hidden_layers": c["layers"], "num_attention_heads": c["heads"],
            "num_key_value_heads": c["kv_heads"], "vocab_size": c["vocab"], "max_position_embeddings": 2048,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False,
            "torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2}


def delta(shape, norm, g):
    m, n = shape
    s = 0.1 * norm
    left = torch.randn(m, 8, generator=g)
    right = torch.randn(8, n, generator=g)
    left /= left.norm(dim=0, keepdim=True)
    right /= right.norm(dim=1, keepdim=True)
    weights = torch.tensor([0.5 / (k + 1) for k in range(8)]) * s
    noise = torch.randn(m, n, generator=g)
    return (left * weights) @ right + noise * (0.05 * s / noise.norm())


class ShardWriter:
    """Collects tensors into shards of at most `limit` bytes, written as they fill."""

    def __init__(self, directory, limit):
        self.directory, self.limit = directory, limit
        self.current, self.size, self.shards, self.weight_map = {}, 0, [], {}
        os.makedirs(directory, exist_ok=True)

    def add(self, name, t):
        nbytes = t.numel() * t.element_size()
        if self.current and self.size + nbytes > self.limit:
            self.flush()
        self.current[name] = t
        self.size += nbytes

    def flush(self):
        if not self.current:
            return
        index = len(self.shards) + 1
        tmp = os.path.join(self.directory, f"shard-{index}.tmp")
        save_file(self.current, tmp, metadata={"format": "pt"})
        self.shards.append((tmp, list(self.current)))
        self.current, self.size = {}, 0

    def finish(self, config):
        self.flush()
        total = len(self.shards)
        size = 0
        for k, (tmp, names) in enumerate(self.shards, 1):
            final = f"model-{k:05d}-of-{total:05d}.safetensors"
            os.replace(tmp, os.path.join(self.directory, final))
            size += os.path.getsize(os.path.join(self.directory, final))
            for name in names:
                self.weight_map[name] = final
        with open(os.path.join(self.directory, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": size}, "weight_map": self.weight_map}, f, indent=2)
        with open(os.path.join(self.directory, "config.json"), "w") as f:
            json.dump(config, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (gets base/ and tuned/)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="hidden 64, 2 layers: the same layout in a few hundred KB")
    ap.add_argument("--shard-mb", type=int, default=1000, help="largest shard, MB")
    args = ap.parse_args()

    c = TINY if args.tiny else FULL
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    base = ShardWriter(os.path.join(args.out, "base"), args.shard_mb << 20)
    tuned = ShardWriter(os.path.join(args.out, "tuned"), args.shard_mb << 20)
    start, count = time.time(), 0
    for name, shape, linear in tensor_list(c):
        w = torch.ones(shape) if len(shape) == 1 else torch.randn(*shape, generator=g) * 0.02
        wb = w.to(torch.bfloat16)
        count += w.numel()
        base.add(name, wb)
        if linear:
            d = delta(shape, wb.float().norm().item(), g)
            tuned.add(name, (wb.float() + d).to(torch.bfloat16))
        else:
            tuned.add(name, wb.clone())
    base.finish(config_json(c))
    tuned.finish(config_json(c))
    print(json.dumps({"parameters": count, "seconds": round(time.time() - start, 1), "out": args.out, "config": c}))


if __name__ == "__main__":
    main()
