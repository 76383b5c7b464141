#!/usr/bin/env python3
"""Compares the model tensors of two tinynn checkpoints (safetensors files).

Usage: compare_checkpoints.py A.safetensors B.safetensors TOLERANCE

Every model tensor ("model.0.weight", "model.3.running_mean"; not the optimizer's
"optimizer.*") must be in both, with the same shape, and agree within TOLERANCE
in norm: |a - b| / |a| (Frobenius) for each tensor. Elementwise differences are larger where
Adam divides a gradient's rounding noise by a tiny second moment, so the norm is what is
compared; the largest elementwise difference is printed too. Exit 1 when over.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, meta in header.items():
        if not name.startswith("model."):
            continue
        begin, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], DTYPES[meta["dtype"]]).reshape(meta["shape"]).astype(np.float64)
    return tensors


def main(a_path, b_path, tolerance):
    a, b = read(a_path), read(b_path)
    assert a, f"{a_path} holds no model tensors"
    assert sorted(a) == sorted(b), f"different tensors: {sorted(set(a) ^ set(b))}"
    worst, where, elementwise = 0.0, "", 0.0
    for name in a:
        assert a[name].shape == b[name].shape, f"{name}: {a[name].shape} vs {b[name].shape}"
        d = float(np.linalg.norm(a[name] - b[name]) / max(np.linalg.norm(a[name]), 1e-30))
        elementwise = max(elementwise, float(np.abs(a[name] - b[name]).max()))
        if d > worst:
            worst, where = d, name
    exact = " (bit-identical)" if elementwise == 0 else ""
    print(f"{len(a)} tensors; largest relative difference in norm {worst:.3g}{' (' + where + ')' if where else ''}, "
          f"largest elementwise {elementwise:.3g}{exact}")
    return 0 if worst <= float(tolerance) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]) if len(sys.argv) == 4 else __doc__)
