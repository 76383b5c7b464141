#!/usr/bin/env python3
"""Turns benchmark TSV lines (name, shape, seconds, gflops) into markdown tables.

Each (name, shape) may appear several times (repeated runs); the median is reported.
"""
import collections
import statistics
import sys


def main(path):
    runs = collections.defaultdict(list)
    for line in open(path):
        name, shape, seconds, _ = line.rstrip("\n").split("\t")
        runs[(name, shape)].append(float(seconds))
    med = {key: statistics.median(v) for key, v in runs.items()}
    torch_names = sorted({n.rsplit("_", 1)[0] for n, _ in med if n.startswith("torch_") and n.endswith("_matmul")})

    shapes = [s for (n, s) in med if n == "tinynn_matmul"]
    header = "| shape (m x k x n) | oneDNN direct GFLOP/s | tinynn GFLOP/s | tinynn / oneDNN |"
    rule = "|---|---|---|---|"
    for t in torch_names:
        header += f" {t} GFLOP/s | tinynn / {t} |"
        rule += "---|---|"
    print(header)
    print(rule)
    for s in shapes:
        m, k, n = (int(x) for x in s.rstrip("^T").split("x"))
        flop = 2.0 * m * k * n
        direct, ours = med[("onednn_direct", s)], med[("tinynn_matmul", s)]
        row = f"| {s} | {flop / direct / 1e9:.1f} | {flop / ours / 1e9:.1f} | {direct / ours:.2f} |"
        for t in torch_names:
            theirs = med.get((f"{t}_matmul", s))
            row += f" {flop / theirs / 1e9:.1f} | {theirs / ours:.2f} |" if theirs else " - | - |"
        print(row)

    print()
    print("| per-op overhead | tinynn (µs) |" + "".join(f" {t} (µs) |" for t in torch_names))
    print("|---|---|" + "---|" * len(torch_names))
    for op in ("add_1elem", "add_scalar_1elem"):
        row = f"| {op} | {med[('tinynn_' + op, '1')] * 1e6:.3f} |"
        for t in torch_names:
            theirs = med.get((f"{t}_{op}", "1"))
            row += f" {theirs * 1e6:.3f} |" if theirs else " - |"
        print(row)


if __name__ == "__main__":
    main(sys.argv[1])
