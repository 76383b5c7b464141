#!/usr/bin/env python3
"""Writes autograd_golden.json: inputs, outputs and gradients computed by PyTorch for the
expressions that tests/test_golden.cpp recomputes with tinynn.

Run with Debian's PyTorch: /usr/bin/python3 tests/golden/gen_autograd_golden.py
The JSON is committed; the test suite never needs PyTorch.
"""
import json
import os

import torch
import torch.nn.functional as F


def tensor_json(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
            "data": t.detach().reshape(-1).tolist()}


def case(name, inputs, fn):
    leaves = {k: v.clone().requires_grad_(v.is_floating_point()) for k, v in inputs.items()}
    out = fn(**leaves)
    out.backward()
    return {
        "name": name,
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "output": tensor_json(out),
        "grads": {k: tensor_json(v.grad) for k, v in leaves.items() if v.is_floating_point()},
    }


def main():
    torch.manual_seed(0)
    cases = []

    # A two-layer MLP step with cross-entropy: the training step every later issue builds on.
    cases.append(case("mlp_cross_entropy", {
        "x": torch.randn(8, 6), "w1": torch.randn(6, 5) * 0.5, "b1": torch.randn(5) * 0.1,
        "w2": torch.randn(5, 4) * 0.5, "b2": torch.randn(4) * 0.1, "target": torch.randint(0, 4, (8,)),
    }, lambda x, w1, b1, w2, b2, target: F.cross_entropy(F.relu(x @ w1 + b1) @ w2 + b2, target)))

    # Pointwise ops broadcasting [3, 1, 4] against [2, 4].
    cases.append(case("broadcast_composite", {"a": torch.randn(3, 1, 4), "b": torch.randn(2, 4)},
                      lambda a, b: (torch.tanh(a * b) + torch.sigmoid(b) / (1 + a.abs()) - (a - b) ** 2).sum()))

    # Batched matmul with a broadcast batch axis: [2, 1, 3, 4] @ [5, 4, 2].
    cases.append(case("batched_matmul", {"a": torch.randn(2, 1, 3, 4), "b": torch.randn(5, 4, 2)},
                      lambda a, b: (F.softplus(a @ b) * torch.logsumexp(a @ b, dim=-1, keepdim=True)).mean()))

    # Reductions, softmax and friends.
    cases.append(case("reductions", {"x": torch.randn(4, 5)},
                      lambda x: (F.gelu(x) * torch.softmax(x, -1)).var(dim=0).sum() + x.norm() + x.amax(dim=1).sum()
                      + x.prod(dim=1).sum() + torch.cumsum(x, 1).std() + F.log_softmax(x, 0).mean()
                      + F.leaky_relu(x, 0.1).sum() + x.clamp(-0.5, 0.5).pow(3).sum()))

    # Views and indexing.
    idx = torch.tensor([[0, 3], [1, 1], [2, 0], [3, 2], [0, 0], [1, 3], [2, 2]])

    def views(x):
        y = x.t().reshape(3, 8)[:, 1:8:2]
        z = torch.cat([y, x[:, :4]], 0)
        w = torch.gather(z, 1, idx)
        return ((w ** 2).sum() + torch.index_select(x, 1, torch.tensor([5, 0])).sum() * 0.5
                + torch.where(x > 0, x, x * 0.1).sum() + torch.stack([x[0], x[3]], 1).exp().sum())

    cases.append(case("views_indexing", {"x": torch.randn(4, 6)}, views))

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograd_golden.json")
    with open(path, "w") as f:
        json.dump({"generator": "tests/golden/gen_autograd_golden.py", "torch": torch.__version__,
                   "cases": cases}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
