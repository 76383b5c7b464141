#!/usr/bin/env python3
"""PyTorch twin of one row of bench/bench_sweep.sh: an MLP 784-HIDDEN...-10 with ReLU, SGD
(momentum 0.9, lr 0.01), cross-entropy, batch BATCH, all 60,000 Fashion-MNIST samples (scaled
and normalized as tinynn does), EPOCHS epochs in a fresh random order each; prints the best
epoch's samples per second.
Usage: torch_mlp_sweep.py HIDDEN(comma-separated) BATCH [EPOCHS]"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_timing import read_idx, setup


def main():
    hidden = [int(h) for h in sys.argv[1].split(",")]
    batch = int(sys.argv[2])
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    setup()
    torch.manual_seed(42)
    data = "/usr/share/datasets/fashion-mnist"
    x = torch.from_numpy(read_idx(f"{data}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(f"{data}/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    x = (x - x.mean()) / x.std()
    layers, width = [], 784
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    best = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        best = max(best, len(x) / (time.perf_counter() - start))
    print(f"{best:.1f}")


if __name__ == "__main__":
    main()
