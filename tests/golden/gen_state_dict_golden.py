#!/usr/bin/env python3
"""Writes state_dict_golden.json: the state_dict layout (names, shapes, dtypes, in PyTorch's
order) of the torch.nn.Sequential twins of tinynn's shipped image configs, and one forward pass
of the fashion_mnist_cnn twin after loading deterministic values, for
tests/test_state_dict_golden.cpp.

Run with Debian's PyTorch: /usr/bin/python3 tests/golden/gen_state_dict_golden.py

"state_dicts" maps a config name (configs/<name>.json) to its ordered list of
[name, shape, dtype] entries, dtype "float32" or "int64".

"load_check" (fashion_mnist_cnn): every state_dict entry, taken in the order of
state_dicts["fashion_mnist_cnn"], with i its index in that list (counting every entry, int64
ones included) and n its element count, is set to
    s = sin(0.37 * arange(n) + i)              (computed in float64, j = 0..n-1)
    *.num_batches_tracked:  3                   (int64 scalar)
    *.running_var:          1 + 0.5 * s**2      (positive)
    everything else:        0.1 * s
then cast to float32 and reshaped to the entry's shape. "input" is
linspace(-1, 1, 2*784).reshape(2, 1, 28, 28) in float32 and "output" the eval-mode logits [2, 10].
"""
import json
import math
import os

import torch
import torch.nn as nn


def tj(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.detach().reshape(-1).tolist()}


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def mlp():
    # tinynn inserts the Flatten before the first linear layer for [1, 28, 28] samples.
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


TWINS = {"fashion_mnist_cnn": cnn, "mnist_cnn": cnn, "fashion_mnist_mlp": mlp}


def layout(model):
    return [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in model.state_dict().items()]


def formula_state(model):
    state = {}
    for i, (k, v) in enumerate(model.state_dict().items()):
        if k.endswith("num_batches_tracked"):
            state[k] = torch.full_like(v, 3)
            continue
        s = torch.sin(0.37 * torch.arange(v.numel(), dtype=torch.float64) + i)
        value = 1 + 0.5 * s ** 2 if k.endswith("running_var") else 0.1 * s
        state[k] = value.to(torch.float32).reshape(v.shape)
    return state


def load_check():
    torch.manual_seed(0)
    model = cnn()
    model.load_state_dict(formula_state(model))
    model.eval()
    x = torch.linspace(-1, 1, 2 * 784, dtype=torch.float32).reshape(2, 1, 28, 28)
    with torch.no_grad():
        y = model(x)
    assert all(math.isfinite(v) for v in y.reshape(-1).tolist())
    return {"config": "fashion_mnist_cnn", "input": tj(x), "output": tj(y)}


def main():
    data = {"generator": "tests/golden/gen_state_dict_golden.py", "torch": torch.__version__,
            "state_dicts": {name: layout(make()) for name, make in TWINS.items()}, "load_check": load_check()}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "state_dict_golden.json")
    with open(path, "w") as f:
        json.dump(data, f)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
