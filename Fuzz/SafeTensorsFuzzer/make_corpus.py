#!/usr/bin/env python3
"""The seed corpus of the SafeTensors fuzz target: valid files written by the Python `safetensors` package,
the malformed cases of Tests/SafeTensorsTests, sharded indexes, and the same headers in the target's second
form (header JSON, a zero byte, the data section).

    python3 Fuzz/SafeTensorsFuzzer/make_corpus.py      # rewrites Fuzz/SafeTensorsFuzzer/corpus/
"""
import json
import os
import shutil
import struct

import numpy as np
import torch
from safetensors.numpy import save as save_numpy
from safetensors.torch import save as save_torch

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
REFERENCE = os.path.join(HERE, "..", "..", "reference", "safetensors")


def framed(header, data=b"", declared=None):
    h = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(h) if declared is None else declared) + h + data


def split_form(file_bytes):
    """A valid file in the target's second form: header JSON, 0, data."""
    n = struct.unpack("<Q", file_bytes[:8])[0]
    return file_bytes[8:8 + n] + b"\0" + file_bytes[8 + n:]


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    os.makedirs(CORPUS)
    seeds = {}
    g = torch.Generator().manual_seed(7)
    seeds["torch-mixed"] = save_torch({
        "a.weight": torch.randn(3, 4, generator=g), "a.half": torch.randn(5, generator=g).half(),
        "a.brain": torch.randn(2, 2, generator=g).bfloat16(), "b.double": torch.randn(2, generator=g).double(),
        "ids": torch.tensor([1, -2, 3]), "i32": torch.tensor([7], dtype=torch.int32), "u8": torch.tensor([1, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False]), "empty": torch.zeros(0, 3), "scalar": torch.tensor(2.5),
        "special": torch.tensor([float("nan"), float("inf"), -0.0, 1e-45]),
    }, metadata={"format": "pt", "note": "seed"})
    seeds["torch-f8"] = save_torch({"f8a": torch.zeros(4, dtype=torch.float8_e4m3fn), "f8b": torch.ones(2, dtype=torch.float8_e5m2)})
    seeds["numpy-plain"] = save_numpy({"x": np.arange(6, dtype=np.float32).reshape(2, 3), "y": np.arange(3, dtype=np.int16)})
    seeds["empty-file"] = save_torch({})
    seeds["unicode-names"] = save_torch({"é.weight": torch.ones(1), "名前": torch.zeros(2, dtype=torch.float16), 'q"uote\\': torch.ones(1)})
    for name in ["examples.safetensors", "sharded/model-00001-of-00002.safetensors", "sharded/model-00002-of-00002.safetensors"]:
        with open(os.path.join(REFERENCE, name), "rb") as f:
            seeds["reference-" + name.replace("/", "-")] = f.read()
    for key, value in list(seeds.items()):
        seeds[key + "-split"] = split_form(value)

    # The malformed cases of Tests/SafeTensorsTests (each an error with a message, never a crash).
    entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    malformed = {
        "short": b"\x01\x02\x03",
        "header-past-end": framed("{}", declared=1000),
        "huge-header": framed("{}", declared=1 << 40),
        "bad-json": framed('{"a": '),
        "not-object": framed("[1, 2]"),
        "unknown-dtype": framed('{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
        "missing-shape": framed('{"a":{"dtype":"F32","data_offsets":[0,4]}}', b"\0" * 4),
        "negative-shape": framed('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', b"\0" * 4),
        "offsets-out-of-range": framed('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', b"\0" * 4),
        "reversed-offsets": framed('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', b"\0" * 4),
        "span-mismatch": framed('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', b"\0" * 8),
        "overlap": framed('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', b"\0" * 12),
        "gap": framed('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8),
        "trailing-bytes": framed('{"a":' + entry + '}', b"\0" * 12),
        "overflowing-shape": framed('{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', b"\0" * 8),
        "duplicate-tensor": framed('{"a":' + entry + ',"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8),
        "duplicate-escaped": framed('{"a":' + entry + ',"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8),
        "duplicate-field": framed('{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
        "duplicate-metadata": framed('{"__metadata__":{"format":"pt","format":"np"}}'),
        "fractional-shape": framed('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', b"\0" * 4),
        "huge-offset": framed('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999999]}}', b"\0" * 4),
        "metadata-not-string": framed('{"__metadata__":{"format":1}}'),
        "deep-nesting": framed("[" * 200),
        "surrogates": framed('{"\\ud83d\\ude00":' + entry + ',"\\ud800":1}', b"\0" * 4),
        "invalid-utf8": framed(b'{"\xff":1}'),
    }
    seeds.update(malformed)
    indexes = {
        "index-valid": {"metadata": {"total_size": 12}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "sub/x.safetensors"}},
        "index-absolute": {"weight_map": {"a": "/etc/passwd"}},
        "index-dotdot": {"weight_map": {"a": "../x.safetensors"}},
        "index-not-string": {"weight_map": {"a": 7}},
        "index-empty": {"weight_map": {}},
    }
    for key, value in indexes.items():
        seeds[key] = json.dumps(value).encode()
    seeds["index-duplicate"] = b'{"weight_map":{"a":"s.safetensors","a":"t.safetensors"}}'
    with open(os.path.join(REFERENCE, "sharded", "model.safetensors.index.json"), "rb") as f:
        seeds["index-reference"] = f.read()
    for key, value in seeds.items():
        with open(os.path.join(CORPUS, key), "wb") as f:
            f.write(value)
    print(f"{len(seeds)} seeds in {CORPUS}")


if __name__ == "__main__":
    main()
