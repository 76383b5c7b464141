#!/usr/bin/env python3
"""PyTorch twin of configs/fashion_mnist_cnn.json: the same CNN (conv 32 3x3 pad 1, batchnorm, ReLU,
max-pool 2; conv 64 3x3 pad 1, batchnorm, ReLU, max-pool 2; flatten; linear 3136-128, ReLU,
dropout 0.3; linear 128-10), cross-entropy with label smoothing 0.05, AdamW(2e-3, wd 1e-4), the
cosine schedule behind 1 linear warmup epoch (stepped per epoch, as tinynn's), batch 128, 54,000
training samples (10 % held out), same thread count. Data loading and normalization are those of
torch_fashion_mlp.py. Prints TSV lines "name<TAB>epoch<TAB>seconds<TAB>samples_per_second" per epoch
(evaluation excluded); after the last epoch the test accuracy goes to stderr, so stdout stays
readable by epoch_table.py.
Usage: torch_fashion_cnn.py [EPOCHS] [DATA_DIR] [DEVICE] [--max-train N]; EPOCHS defaults to 2;
--max-train N trains on the first N samples of the training split only (quick runs); on "cuda" the
data sits on the GPU, as tinynn's trainer keeps it there, and the name gets a "_cuda" suffix."""
import argparse
import math
import sys

import numpy as np
import torch
import torch.nn as nn

from torch_timing import read_idx, setup, train_epochs


def lr_at(epoch, epochs, base, warmup=1, start_factor=0.1):
    """tinynn's LinearWarmup wrapping CosineAnnealingLR (t_max = the epochs after warmup, eta_min 0)."""
    if epoch < warmup:
        return base * (start_factor + (1.0 - start_factor) * epoch / warmup)
    t_max = max(epochs - warmup, 1)
    return base * (1.0 + math.cos(math.pi * (epoch - warmup) / t_max)) / 2.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("epochs", nargs="?", type=int, default=2)
    parser.add_argument("data_dir", nargs="?", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("device", nargs="?", default="cpu")
    parser.add_argument("--max-train", type=int, default=0, help="use only the first N training samples")
    args = parser.parse_args()
    epochs, data_dir, device = args.epochs, args.data_dir, torch.device(args.device)
    label = setup().replace("torch_", "torch_cnn_", 1) + ("_cuda" if device.type == "cuda" else "")
    torch.manual_seed(42)
    x = torch.from_numpy(read_idx(f"{data_dir}/train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(f"{data_dir}/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    mean, std = x.mean(), x.std()
    x = (x - mean) / std
    perm = torch.randperm(len(x))
    train_idx = perm[: int(len(x) * 0.9)]
    if args.max_train > 0:
        train_idx = train_idx[: args.max_train]
    x, y = x[train_idx].to(device), y[train_idx].to(device)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(128, 10)).to(device)
    base_lr = 2e-3
    opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=1e-4)
    train_epochs(model, opt, x, y, epochs, label, device, lambda e: lr_at(e, epochs, base_lr))
    # Test accuracy (not timed), normalized with the training set's mean and std.
    tx = torch.from_numpy(read_idx(f"{data_dir}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    ty = torch.from_numpy(read_idx(f"{data_dir}/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)).to(device)
    tx = ((tx - mean) / std).to(device)
    model.eval()
    with torch.no_grad():
        correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item() for i in range(0, len(tx), 1000))
    print(f"{label}: test accuracy {correct / len(tx):.4f} after {epochs} epoch(s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
