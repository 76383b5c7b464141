#!/usr/bin/env python3
"""PyTorch side of bench_matmul: same shapes, same thread count, same TSV output.

Run with Debian's interpreter (/usr/bin/python3, python3-torch) or any python with torch.
"""
import os
import statistics
import sys
import time

import torch


def median_seconds(fn, repeats, calls=1, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    torch.manual_seed(0)
    label = f"torch_{torch.__version__.split('+')[0]}"
    shapes = [(1024, 1024, 1024, False), (2048, 2048, 2048, False), (128, 784, 256, False),
              (128, 256, 128, False), (784, 128, 256, True)]
    with torch.no_grad():
        for m, k, n, transpose_a in shapes:
            repeats = (7 if m * k * n > (1 << 28) else 51) * scale
            a = torch.randn(k, m).t() if transpose_a else torch.randn(m, k)
            b = torch.randn(k, n)
            t = median_seconds(lambda: torch.matmul(a, b), repeats)
            print(f"{label}_matmul\t{m}x{k}x{n}{'^T' if transpose_a else ''}\t{t:.9f}\t{2 * m * k * n / t / 1e9:.2f}")
        x = torch.ones(1)
        y = torch.ones(1)
        t = median_seconds(lambda: x + y, 21 * scale, 20000)
        print(f"{label}_add_1elem\t1\t{t:.9f}\t0")
        t = median_seconds(lambda: x + 1.0, 21 * scale, 20000)
        print(f"{label}_add_scalar_1elem\t1\t{t:.9f}\t0")


if __name__ == "__main__":
    main()
