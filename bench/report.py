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

    print()
    print("| autograd | tinynn (µs) |" + "".join(f" {t} (µs) |" for t in torch_names))
    print("|---|---|" + "---|" * len(torch_names))
    for label, key in (("chain op, no grad (per op)", "chain_forward_nograd_per_op"),
                       ("chain op, recorded (per op)", "chain_forward_recorded_per_op"),
                       ("chain op, forward + backward (per op)", "chain_forward_backward_per_op"),
                       ("MLP 784-256-128-10 @128, forward + backward", "mlp_forward_backward")):
        shape = "1" if "chain" in key else "128x784-256-128-10"
        row = f"| {label} | {med[('tinynn_' + key, shape)] * 1e6:.2f} |"
        for t in torch_names:
            theirs = med.get((f"{t}_{key}", shape))
            row += f" {theirs * 1e6:.2f} |" if theirs else " - |"
        print(row)
    for label, key, shape in (("tiny Linear(4 -> 4) forward + backward", "tiny_linear_forward_backward", "1x4-4"),):
        row = f"| {label} | {med[('tinynn_' + key, shape)] * 1e6:.2f} |"
        for t in torch_names:
            theirs = med.get((f"{t}_{key}", shape))
            row += f" {theirs * 1e6:.2f} |" if theirs else " - |"
        print(row)
    floor = med[("onednn_mlp_matmul_floor", "128x784-256-128-10")]
    step = med[("tinynn_mlp_forward_backward", "128x784-256-128-10")]
    print(f"| MLP floor: its 8 matmuls called directly through oneDNN | {floor * 1e6:.2f} | |")
    print(f"\nMLP forward + backward / matmul floor: {step / floor:.2f}")
    ours = med[("tinynn_mlp_eval_10000_images", "10000")]
    line = f"Evaluation of 10,000 images (MLP, batches of 1000): tinynn {10000 / ours:,.0f} images/s"
    for t in torch_names:
        theirs = med.get((f"{t}_mlp_eval_10000_images", "10000"))
        if theirs:
            line += f", {t} {10000 / theirs:,.0f} images/s"
    print(line)

    shape = "128x784-256-128-10"
    if ("tinynn_train_step", shape) in med:
        step, floor = med[("tinynn_train_step", shape)], med[("onednn_train_step_matmul_floor", shape)]
        print()
        print("| one training step of the default config | µs | share of the step |")
        print("|---|---|---|")
        print(f"| whole step (median) | {step * 1e6:.0f} | 100% |")
        for phase in ("batch", "forward", "loss", "backward", "grad_norm", "optimizer", "bookkeeping"):
            t = med[(f"tinynn_train_step_phase_{phase}", shape)]
            print(f"| {phase} | {t * 1e6:.0f} | {100 * t / step:.0f}% |")
        print(f"| the step's 8 matmuls called directly through oneDNN (floor) | {floor * 1e6:.0f} | {100 * floor / step:.0f}% |")
        print(f"\nTraining step / matmul floor: {step / floor:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
