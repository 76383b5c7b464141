#!/usr/bin/env python3
"""Writes linalg_golden.json: torch.linalg results on fixed random float64 matrices, and the
gradients of sum(f(inputs) * weight) for the differentiable functions, for
tests/test_linalg_golden.cpp.

Run with Debian's PyTorch: /usr/bin/python3 tests/golden/gen_linalg_golden.py
"""
import json
import os

import torch


def tj(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.detach().reshape(-1).tolist()}


def main():
    torch.manual_seed(7)
    d = torch.float64
    a = torch.randn(2, 4, 3, dtype=d)                 # tall batch
    sq = torch.randn(2, 3, 3, dtype=d) + 3 * torch.eye(3, dtype=d)
    b = torch.randn(2, 3, 2, dtype=d)
    tall_b = torch.randn(2, 4, 2, dtype=d)
    x = torch.randn(5, 3, dtype=d)
    y = torch.randn(4, 3, dtype=d)
    spd = sq @ sq.mT + torch.eye(3, dtype=d)
    rank2 = torch.randn(5, 2, dtype=d) @ torch.randn(2, 4, dtype=d)
    inputs = {"a": a, "sq": sq, "b": b, "tall_b": tall_b, "x": x, "y": y, "spd": spd, "rank2": rank2}

    # name -> (function of the inputs dict, names of the inputs it differentiates, or [] for none)
    L = torch.linalg
    cases = {
        "vector_norm_3": (lambda v: L.vector_norm(v["x"], 3, dim=-1), ["x"]),
        "vector_norm_inf": (lambda v: L.vector_norm(v["x"], float("inf"), dim=-1), ["x"]),
        "matrix_norm_fro": (lambda v: L.matrix_norm(v["a"]), ["a"]),
        "matrix_norm_nuc": (lambda v: L.matrix_norm(v["a"], "nuc"), ["a"]),
        "matrix_norm_2": (lambda v: L.matrix_norm(v["a"], 2), ["a"]),
        "matrix_norm_-2": (lambda v: L.matrix_norm(v["a"], -2), ["a"]),
        "matrix_norm_1": (lambda v: L.matrix_norm(v["a"], 1), ["a"]),
        "matrix_norm_inf": (lambda v: L.matrix_norm(v["a"], float("inf")), ["a"]),
        "cdist": (lambda v: torch.cdist(v["x"], v["y"]), ["x", "y"]),
        "cdist_1": (lambda v: torch.cdist(v["x"], v["y"], p=1), ["x", "y"]),
        "cosine_similarity": (lambda v: torch.nn.functional.cosine_similarity(v["x"], v["x"].flip(0), dim=-1), ["x"]),
        "det": (lambda v: L.det(v["sq"]), ["sq"]),
        "slogdet_logabsdet": (lambda v: L.slogdet(v["sq"])[1], ["sq"]),
        "slogdet_sign": (lambda v: L.slogdet(v["sq"])[0], []),
        "inv": (lambda v: L.inv(v["sq"]), ["sq"]),
        "solve": (lambda v: L.solve(v["sq"], v["b"]), ["sq", "b"]),
        "lstsq": (lambda v: L.lstsq(v["a"], v["tall_b"], driver="gelsd").solution, []),
        "cholesky": (lambda v: L.cholesky(v["spd"]), ["spd"]),
        "svdvals": (lambda v: L.svdvals(v["a"]), ["a"]),
        "eigvalsh": (lambda v: L.eigvalsh(v["spd"]), ["spd"]),
        "eigvals_real_sorted": (lambda v: torch.sort(L.eigvals(v["sq"]).real, dim=-1).values, []),
        "pinv": (lambda v: L.pinv(v["a"]), ["a"]),
        "pinv_rank2": (lambda v: L.pinv(v["rank2"]), []),
        "matrix_rank": (lambda v: L.matrix_rank(v["rank2"]), []),
        "cond": (lambda v: L.cond(v["a"]), ["a"]),
        "matrix_power_3": (lambda v: L.matrix_power(v["sq"], 3), ["sq"]),
        "matrix_power_-2": (lambda v: L.matrix_power(v["sq"], -2), ["sq"]),
        "qr_r_abs": (lambda v: L.qr(v["a"]).R.abs(), []),
        "trace": (lambda v: torch.diagonal(v["sq"], dim1=-2, dim2=-1).sum(-1), ["sq"]),
    }
    out = {}
    for name, (fn, wrt) in cases.items():
        leaves = {k: t.clone().requires_grad_(k in wrt) for k, t in inputs.items()}
        value = fn(leaves)
        entry = {"value": tj(value)}
        if wrt:
            weight = torch.randn(value.shape, dtype=d)
            grads = torch.autograd.grad((value * weight).sum(), [leaves[k] for k in wrt])
            entry["weight"] = tj(weight)
            entry["grads"] = {k: tj(g) for k, g in zip(wrt, grads)}
        out[name] = entry

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg_golden.json")
    with open(path, "w") as f:
        json.dump({"generator": "tests/golden/gen_linalg_golden.py", "torch": torch.__version__,
                   "inputs": {k: tj(t) for k, t in inputs.items()}, "cases": out}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
