#!/usr/bin/env python3
"""PyTorch side of bench_autograd: same chain and MLP, same thread count, same TSV output."""
import sys

import torch

from torch_timing import median_seconds, setup
import torch.nn.functional as F


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    label = setup()
    chain = 1000
    leaf = torch.ones(1, requires_grad=True)

    def forward():
        y = leaf
        for _ in range(chain):
            y = y * 1.0001
        return y

    def nograd():
        with torch.no_grad():
            forward()

    def fwd_bwd():
        forward().backward()
        leaf.grad = None

    print(f"{label}_chain_forward_nograd_per_op\t1\t{median_seconds(nograd, 21 * scale) / chain:.9f}\t0")
    print(f"{label}_chain_forward_recorded_per_op\t1\t{median_seconds(forward, 21 * scale) / chain:.9f}\t0")
    print(f"{label}_chain_forward_backward_per_op\t1\t{median_seconds(fwd_bwd, 21 * scale) / chain:.9f}\t0")

    torch.manual_seed(0)
    sizes = [784, 256, 128, 10]
    weights = [(torch.randn(a, b) * 0.05).requires_grad_() for a, b in zip(sizes, sizes[1:])]
    biases = [torch.zeros(b, requires_grad=True) for b in sizes[1:]]
    x = torch.rand(128, 784)
    target = torch.randint(0, 10, (128,))

    def mlp_step():
        h = x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w + b
            if i + 1 < len(weights):
                h = F.relu(h)
        F.cross_entropy(h, target).backward()
        for p in weights + biases:
            p.grad = None

    print(f"{label}_mlp_forward_backward\t128x784-256-128-10\t{median_seconds(mlp_step, 31 * scale, 5):.9f}\t0")

    tiny = torch.nn.Linear(4, 4)
    one = torch.randn(1, 4)

    def tiny_step():
        tiny(one).sum().backward()
        tiny.zero_grad(set_to_none=True)

    print(f"{label}_tiny_linear_forward_backward\t1x4-4\t{median_seconds(tiny_step, 21 * scale, 2000):.9f}\t0")

    images = torch.rand(10000, 784)

    def evaluate():
        with torch.no_grad():
            for b in range(0, 10000, 1000):
                h = images[b:b + 1000]
                for i, (w, bias) in enumerate(zip(weights, biases)):
                    h = h @ w + bias
                    if i + 1 < len(weights):
                        h = F.relu(h)
                h.argmax(1)

    print(f"{label}_mlp_eval_10000_images\t10000\t{median_seconds(evaluate, 9 * scale):.9f}\t0")


if __name__ == "__main__":
    main()
