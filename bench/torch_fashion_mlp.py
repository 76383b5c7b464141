#!/usr/bin/env python3
"""PyTorch twin of configs/fashion_mnist_mlp.json for bench/bench_epoch.sh: the same MLP
(784-256-128-10, ReLU, dropout 0.2), cross-entropy with label smoothing 0.05, AdamW(1e-3, wd 1e-4),
batch 128, 54,000 training samples (10 % held out), same thread count. Prints TSV lines
"name<TAB>epoch<TAB>seconds<TAB>samples_per_second" per epoch (evaluation excluded).
Usage: torch_fashion_mlp.py [EPOCHS] [DATA_DIR] [DEVICE]; on "cuda" the data sits on the GPU, as
tinynn's trainer keeps it there, and the name gets a "_cuda" suffix."""
import sys

import numpy as np
import torch
import torch.nn as nn

from torch_timing import read_idx, setup, train_epochs


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
    train_epochs(model, opt, x, y, epochs, label, device)

if __name__ == "__main__":
    main()
