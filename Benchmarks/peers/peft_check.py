#!/usr/bin/env python3
"""Check a LoRA adapter (e.g. one written by `lora`) with PEFT itself against the fine-tune it approximates.

    python3 Benchmarks/peers/peft_check.py --base DIR_OR_FILE --tuned DIR_OR_FILE --adapter ADAPTER_DIR
                                           [--config-dir DIR] [--all] [--threads N]

(`pip install torch transformers peft safetensors`.) A DIR means DIR/model.safetensors, or the shards that
DIR/model.safetensors.index.json lists (a sharded model, such as make_llama_pair.py's); config.json is
read from --config-dir (default: the base directory). A config whose architectures name a *ForCausalLM
class (Llama) is built with AutoModelForCausalLM, so that lm_head is part of the model; any other with
AutoModel. The model is float32 whatever the files' dtype, so PEFT's delta is computed in float32.
What it checks:

1. Loading: the base model (from config.json, weights from the base safetensors) is wrapped
   with `PeftModel.from_pretrained(base, ADAPTER_DIR)`. Exit 2 if that raises (bad config, shape
   mismatch) or if PEFT warns about missing adapter keys (a misnamed key leaves that LoRA at its
   zero-delta init). Adapter tensors that match no model key are dropped by PEFT without a word:
   they are listed (IGNORED) and make the exit status 3 once the figures are printed.
2. Per LoRA module: the delta PEFT applies, `get_delta_weight` (scaling, rank/alpha patterns and the
   embedding transpose included), against the true delta W_tuned - W_base:
       err    = |dW_adapter - dW_true|_F / |dW_true|_F
       merged = |W_merged - W_tuned|_F / |dW_true|_F   with W_merged from merge_and_unload()
       opt    = best rank-r error (Eckart-Young, from the singular values of dW_true)
   then a summary line with the max and mean of err and merged, and the largest err - opt.
3. Every other tensor of merge_and_unload() (biases, LayerNorms, modules_to_save) is compared with
   the tuned one: `restored` when it matches the tuned value (rel. error < 1e-5 of its delta),
   otherwise `base` (unchanged) or a relative error. Listed with --all, counted otherwise.

Exit 0 when the adapter loads completely; the figures are for a person (or a test) to judge.

The singular values of the true deltas (the optimum's only input, and most of the time on a large model) are
cached in $TMPDIR/peft_check_sv/, keyed by the base and tuned files' paths, sizes and modification times, so
that checking several adapters of one pair computes them once.
"""
import argparse
import hashlib
import json
import os
import tempfile
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM
from peft import PeftModel
from peft.tuners.lora import LoraLayer
from peft.utils import load_peft_weights, set_peft_model_state_dict

PREFIX = "base_model.model."


def load_weights(p):
    """A state dict from a .safetensors file, a directory holding model.safetensors, or a sharded directory."""
    index = os.path.join(p, "model.safetensors.index.json")
    if os.path.isdir(p) and os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        state = {}
        for shard in shards:
            state.update(load_file(os.path.join(p, shard)))
        return state
    return load_file(os.path.join(p, "model.safetensors") if os.path.isdir(p) else p)


def fail(msg):
    print(f"LOAD FAILED: {msg}", file=sys.stderr)
    sys.exit(2)


def sv_cache_path(*paths):
    """Where the singular values of the deltas between these models are cached."""
    key = []
    for p in paths:
        files = [os.path.join(p, f) for f in sorted(os.listdir(p))] if os.path.isdir(p) else [p]
        key += [f"{os.path.realpath(f)}:{os.path.getsize(f)}:{os.path.getmtime(f)}" for f in files if f.endswith(".safetensors")]
    return os.path.join(tempfile.gettempdir(), "peft_check_sv", hashlib.sha1("|".join(key).encode()).hexdigest() + ".pt")


def rel(num, den):
    return num / den if den > 0 else (0.0 if num == 0 else float("inf"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--tuned", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--config-dir", default=None)
    ap.add_argument("--all", action="store_true", help="also list every non-LoRA tensor")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    config_dir = args.config_dir or (args.base if os.path.isdir(args.base) else os.path.dirname(args.base) or ".")
    base_sd = load_weights(args.base)
    tuned_sd = load_weights(args.tuned)
    config = AutoConfig.from_pretrained(config_dir)
    causal = any(a.endswith("ForCausalLM") for a in (config.architectures or []))
    model = (AutoModelForCausalLM if causal else AutoModel).from_config(config, torch_dtype=torch.float32)
    missing = [k for k in model.state_dict() if k not in base_sd]
    if missing:
        sys.exit(f"base weights lack {len(missing)} model tensors, e.g. {missing[:3]}")
    model.load_state_dict({k: v for k, v in base_sd.items() if k in model.state_dict()})
    model.eval()

    # 1. Load with PEFT, turning its silent or warned-about failures into errors.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pm = PeftModel.from_pretrained(model, args.adapter)
        except Exception as e:  # noqa: BLE001 -- any failure to load is the finding
            fail(f"{type(e).__name__}: {e}")
    for w in caught:
        if "missing adapter keys" in str(w.message):
            fail(str(w.message))
    ignored = set_peft_model_state_dict(pm, load_peft_weights(args.adapter)).unexpected_keys
    if ignored:
        print(f"IGNORED {len(ignored)} adapter tensors match no model key (PEFT drops them silently), "
              f"e.g. {ignored[:3]}", file=sys.stderr)
    cfg = pm.peft_config["default"]
    print(f"loaded {type(pm).__name__}: r={cfg.r} lora_alpha={cfg.lora_alpha} use_rslora={cfg.use_rslora} "
          f"task_type={cfg.task_type} bias={cfg.bias} modules_to_save={cfg.modules_to_save}")

    # 2. LoRA deltas.
    rows = {}
    cache_path = sv_cache_path(args.base, args.tuned)
    sv_cache = torch.load(cache_path) if os.path.exists(cache_path) else {}
    cached = len(sv_cache)
    with torch.no_grad():
        for name, mod in pm.named_modules():
            if isinstance(mod, LoraLayer) and "default" in mod.r:
                key = name.removeprefix(PREFIX) + ".weight"
                true = tuned_sd[key].double() - base_sd[key].double()
                got = mod.get_delta_weight("default").double()
                sv = sv_cache.get(key)
                if sv is None:
                    sv = sv_cache[key] = torch.linalg.svdvals(true)
                r = mod.r["default"]
                rows[key] = dict(shape=list(true.shape), r=r, s=mod.scaling["default"], tn=true.norm().item(),
                                 err=rel((got - true).norm().item(), true.norm().item()),
                                 opt=rel(sv[r:].norm().item(), sv.norm().item()))
        merged = pm.merge_and_unload().state_dict()
    if len(sv_cache) > cached:
        os.makedirs(os.path.dirname(cache_path), exist_ok=True)
        torch.save(sv_cache, cache_path + ".tmp")
        os.replace(cache_path + ".tmp", cache_path)

    if not rows:
        fail("the adapter has no LoRA modules")
    print(f"{'tensor':55s} {'shape':13s} {'r':>4s} {'scale':>7s} {'err':>12s} {'merged':>12s} {'opt':>12s}")
    for key, d in rows.items():
        d["merged"] = rel((merged[key].double() - tuned_sd[key].double()).norm().item(), d["tn"])
        print(f"{key:55s} {str(d['shape']):13s} {d['r']:4d} {d['s']:7.3g} {d['err']:12.6e} {d['merged']:12.6e} {d['opt']:12.6e}")
    errs = [d["err"] for d in rows.values()]
    merrs = [d["merged"] for d in rows.values()]
    excess = max(d["err"] - d["opt"] for d in rows.values())
    print(f"SUMMARY lora modules={len(rows)} err max={max(errs):.4e} mean={sum(errs) / len(errs):.4e} "
          f"merged max={max(merrs):.4e} mean={sum(merrs) / len(merrs):.4e} max(err-opt)={excess:.3e}")

    # 3. Everything else the adapter may carry (biases, modules_to_save).
    restored, untouched, other = 0, 0, []
    for key, w in merged.items():
        if key in rows or key not in tuned_sd:
            continue
        dn = (tuned_sd[key].double() - base_sd[key].double()).norm().item()
        e = rel((w.double() - tuned_sd[key].double()).norm().item(), dn)
        if torch.equal(w, base_sd[key]) and dn > 0:
            untouched += 1
            state = "base"
        elif e < 1e-5:
            restored += 1
            state = "restored"
        else:
            other.append(key)
            state = f"rel.err {e:.3e}"
        if args.all:
            print(f"  {key:55s} {state}")
    print(f"OTHER tensors={restored + untouched + len(other)} restored={restored} base={untouched} "
          f"other={len(other)}{' e.g. ' + ', '.join(other[:3]) if other else ''}")
    if ignored:
        print(f"IGNORED {len(ignored)} adapter tensors (see above); exit 3")
        sys.exit(3)


if __name__ == "__main__":
    main()
