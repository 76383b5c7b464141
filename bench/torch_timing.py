"""Timing helpers shared by the PyTorch benchmark scripts (the Python twin of bench_util.h): medians,
threads, the IDX reader and the timed epoch loop of the Fashion-MNIST twins."""
import gzip
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F


def median_seconds(fn, repeats, calls=1, warmup=2):
    """Median seconds per call over `repeats` timed batches of `calls` calls, after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def setup():
    """Uses the same thread count as tinynn; returns the label printed in front of each result."""
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    return f"torch_{torch.__version__.split('+')[0]}"


def read_idx(path, header):
    """The bytes of a gzipped IDX file after its `header` bytes."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def train_epochs(model, opt, x, y, epochs, label, device, lr_for_epoch=None):
    """tinynn's training loop on (x, y): batches of 128 in a fresh random order each epoch,
    cross-entropy with label smoothing 0.05; prints "label_epoch<TAB>epoch<TAB>seconds<TAB>samples/s"
    per epoch (the lr set per epoch by lr_for_epoch(epoch_index) when given)."""
    for epoch in range(1, epochs + 1):
        if lr_for_epoch is not None:
            for group in opt.param_groups:
                group["lr"] = lr_for_epoch(epoch - 1)
        model.train()
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
