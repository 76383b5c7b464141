#!/usr/bin/env python3
"""PyTorch twin of configs/fashion_mnist_mlp.json for bench/bench_epoch.sh: the same MLP
(784-256-128-10, ReLU, dropout 0.2), cross-entropy with label smoothing 0.05, AdamW(1e-3, wd 1e-4),
batch 128, 54,000 training samples (10 % held out), same thread count. Prints TSV lines
"name<TAB>epoch<TAB>seconds<TAB>samples_per_second" per epoch (evaluation excluded).
Usage: torch_fashion_mlp.py [EPOCHS] [DATA_DIR] [DEVICE]; on "cuda" the data sits on the GPU, as
tinynn's trainer keeps it there, and the name gets a "_cuda" suffix."""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_timing import setup


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    data_dir = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    device = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cpu")
    label = setup() + ("_cuda" if device.type == "cuda" else "")
    torch.manual_seed(42)
    x = torch.from_numpy(read_idx(f"{data_dir}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(f"{data_dir}/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    x = (x - x.mean()) / x.std()
    perm = torch.randperm(len(x))
    train_idx = perm[: int(len(x) * 0.9)]
    x, y = x[train_idx].to(device), y[train_idx].to(device)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 10)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), 128):
            idx = order[i:i + 128]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx], label_smoothing=0.05)
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        print(f"{label}_epoch\t{epoch}\t{seconds:.6f}\t{len(x) / seconds:.1f}", flush=True)


if __name__ == "__main__":
    main()
