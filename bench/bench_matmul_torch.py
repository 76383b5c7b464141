#!/usr/bin/env python3
"""PyTorch side of bench_matmul: same shapes, same thread count, same TSV output.

Run with Debian's interpreter (/usr/bin/python3, python3-torch) or any python with torch.
"""
import sys

import torch

from torch_timing import median_seconds, setup


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    label = setup()
    torch.manual_seed(0)
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
