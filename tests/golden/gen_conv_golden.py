#!/usr/bin/env python3
"""Writes conv_golden.json: conv2d (values, first and second-order gradients), max/avg/adaptive
average pooling and batch normalization computed by PyTorch in float64, for
tests/test_conv_golden.cpp.

Run with Debian's PyTorch: /usr/bin/python3 tests/golden/gen_conv_golden.py
"""
import json
import os

import torch
import torch.nn.functional as F


def tj(t):
    if t is None:
        return None
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.detach().reshape(-1).tolist()}


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def conv2d():
    torch.manual_seed(10)
    # name, input shape, weight shape, bias, stride, padding, dilation, groups, second order
    specs = [
        ("1x1", [2, 3, 4, 4], [4, 3, 1, 1], True, [1, 1], [0, 0], [1, 1], 1, False),
        ("3x3_pad1", [2, 3, 5, 5], [3, 3, 3, 3], True, [1, 1], [1, 1], [1, 1], 1, False),
        ("stride2", [2, 2, 7, 5], [3, 2, 3, 3], True, [2, 2], [1, 1], [1, 1], 1, True),
        ("asym_stride2x1_pad0x2", [2, 3, 6, 5], [2, 3, 3, 2], True, [2, 1], [0, 2], [1, 1], 1, False),
        ("dilation2", [1, 2, 9, 7], [2, 2, 3, 3], True, [1, 1], [1, 1], [2, 2], 1, True),
        ("groups2", [1, 4, 5, 4], [4, 2, 3, 3], True, [1, 1], [1, 1], [1, 1], 2, True),
        ("depthwise_x2", [1, 3, 5, 4], [6, 1, 3, 3], True, [1, 1], [1, 1], [1, 1], 3, True),
        ("odd_7x5_k3x2", [3, 2, 7, 5], [3, 2, 3, 2], True, [1, 1], [0, 0], [1, 1], 1, False),
        ("batch1", [1, 3, 5, 5], [2, 3, 3, 3], True, [1, 1], [0, 0], [1, 1], 1, False),
        ("no_bias_stride2", [2, 2, 6, 6], [3, 2, 3, 3], False, [2, 2], [0, 0], [1, 1], 1, False),
        ("kernel_eq_padded_input", [2, 2, 4, 3], [3, 2, 6, 5], True, [1, 1], [1, 1], [1, 1], 1, False),
        ("mixed_s1x2_p1x0_d2x1_g2_nobias", [1, 4, 7, 6], [4, 2, 2, 3], False, [1, 2], [1, 0], [2, 1], 2, True),
    ]
    cases = []
    for name, xs, ws, has_bias, stride, padding, dilation, groups, second in specs:
        x = randn(*xs).requires_grad_()
        w = randn(*ws).requires_grad_()
        b = randn(ws[0]).requires_grad_() if has_bias else None
        out = F.conv2d(x, w, b, stride, padding, dilation, groups)
        go = randn(*out.shape)
        out.backward(go)
        case = {"name": name, "stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
                "input": tj(x), "weight": tj(w), "bias": tj(b), "grad_output": tj(go), "output": tj(out),
                "grad_input": tj(x.grad), "grad_weight": tj(w.grad), "grad_bias": tj(b.grad if b is not None else None),
                "grad_grad": None}
        if second:
            x2 = x.detach().clone().requires_grad_()
            w2 = w.detach().clone().requires_grad_()
            go2 = go.clone().requires_grad_()
            b2 = b.detach() if b is not None else None
            out2 = F.conv2d(x2, w2, b2, stride, padding, dilation, groups)
            h = torch.autograd.grad(out2, (x2, w2), go2, create_graph=True)
            vx, vw = randn(*xs), randn(*ws)
            s = (h[0] * vx).sum() + (h[1] * vw).sum()
            gg = torch.autograd.grad(s, (x2, w2, go2), allow_unused=True)
            gg = [g if g is not None else torch.zeros_like(t) for g, t in zip(gg, (x2, w2, go2))]
            case["grad_grad"] = {"v_input": tj(vx), "v_weight": tj(vw), "gg_input": tj(gg[0]),
                                 "gg_weight": tj(gg[1]), "gg_grad_output": tj(gg[2])}
        cases.append(case)
    return cases


def tie_free(*shape):
    # Distinct values (a random permutation plus small noise) so the max of every window is unique.
    n = 1
    for s in shape:
        n *= s
    x = (torch.randperm(n).double() + 0.5 * torch.rand(n, dtype=torch.float64)) / n - 0.5
    x = x.reshape(*shape)
    assert x.unique().numel() == x.numel()
    return x


def max_pool2d():
    torch.manual_seed(11)
    # name, input shape, kernel, stride (None: the kernel), padding, dilation, ceil_mode
    specs = [
        ("k2_default_stride", [2, 2, 6, 6], [2, 2], None, [0, 0], [1, 1], False),
        ("k3_s2_pad1", [2, 2, 7, 7], [3, 3], [2, 2], [1, 1], [1, 1], False),
        ("k3_s1_dil2", [1, 2, 9, 8], [3, 3], [1, 1], [0, 0], [2, 2], False),
        ("k2_s2_ceil_adds_window", [2, 2, 7, 5], [2, 2], [2, 2], [0, 0], [1, 1], True),
        ("k3_s2_pad1_ceil", [1, 3, 8, 6], [3, 3], [2, 2], [1, 1], [1, 1], True),
        ("k3_s3_pad1_ceil_drops_window", [1, 2, 5, 5], [3, 3], [3, 3], [1, 1], [1, 1], True),
        ("nonsquare_k2x3_s1x2_pad1", [1, 2, 6, 7], [2, 3], [1, 2], [1, 1], [1, 1], False),
        ("odd_7x5_k3_s2", [3, 1, 7, 5], [3, 3], [2, 2], [0, 0], [1, 1], False),
        ("batch1_k2_s1", [1, 4, 5, 5], [2, 2], [1, 1], [0, 0], [1, 1], False),
        ("k3x2_s2x1_pad1x1_dil1x2_ceil", [2, 1, 8, 7], [3, 2], [2, 1], [1, 1], [1, 2], True),
    ]
    cases = []
    for name, xs, k, stride, padding, dilation, ceil_mode in specs:
        x = tie_free(*xs).requires_grad_()
        out = F.max_pool2d(x, k, stride, padding, dilation, ceil_mode)
        go = randn(*out.shape)
        out.backward(go)
        cases.append({"name": name, "kernel_size": k, "stride": stride if stride is not None else k, "padding": padding,
                      "dilation": dilation, "ceil_mode": ceil_mode, "input": tj(x), "grad_output": tj(go),
                      "output": tj(out), "grad_input": tj(x.grad)})
    return cases


def avg_pool2d():
    torch.manual_seed(12)
    # name, input shape, kernel, stride (None: the kernel), padding, ceil_mode, count_include_pad
    specs = [
        ("k2_default_stride", [1, 3, 6, 6], [2, 2], None, [0, 0], False, True),
        ("k3_s2_pad1_include_pad", [1, 2, 7, 7], [3, 3], [2, 2], [1, 1], False, True),
        ("k3_s2_pad1_exclude_pad", [1, 2, 7, 7], [3, 3], [2, 2], [1, 1], False, False),
        ("k3_s2_pad1_ceil_include_pad", [1, 2, 6, 8], [3, 3], [2, 2], [1, 1], True, True),
        ("k3_s2_pad1_ceil_exclude_pad", [1, 2, 6, 8], [3, 3], [2, 2], [1, 1], True, False),
        ("k2_s2_ceil_no_pad", [2, 2, 7, 5], [2, 2], [2, 2], [0, 0], True, True),
        ("k3_s3_pad1_ceil_drops_window", [1, 2, 5, 5], [3, 3], [3, 3], [1, 1], True, True),
        ("odd_k3x2_s1x2_pad1x0", [3, 1, 7, 5], [3, 2], [1, 2], [1, 0], False, True),
        ("nonsquare_k2x3_s2x1_pad1_exclude", [2, 2, 5, 6], [2, 3], [2, 1], [1, 1], False, False),
        ("batch1_k3_s1_pad1_exclude", [1, 3, 4, 5], [3, 3], [1, 1], [1, 1], False, False),
    ]
    cases = []
    for name, xs, k, stride, padding, ceil_mode, include in specs:
        x = randn(*xs).requires_grad_()
        out = F.avg_pool2d(x, k, stride, padding, ceil_mode, include)
        go = randn(*out.shape)
        out.backward(go)
        cases.append({"name": name, "kernel_size": k, "stride": stride if stride is not None else k, "padding": padding,
                      "ceil_mode": ceil_mode, "count_include_pad": include, "input": tj(x), "grad_output": tj(go),
                      "output": tj(out), "grad_input": tj(x.grad)})
    return cases


def adaptive_avg_pool2d():
    torch.manual_seed(13)
    specs = [("8x8_to_4x4", [1, 2, 8, 8], [4, 4]), ("8x8_to_2x2", [1, 1, 8, 8], [2, 2]),
             ("8x8_to_1x1", [2, 1, 8, 8], [1, 1]), ("7x5_to_3x2", [2, 2, 7, 5], [3, 2]),
             ("5x5_to_3x3", [2, 3, 5, 5], [3, 3]), ("3x3_to_5x4", [2, 2, 3, 3], [5, 4])]
    cases = []
    for name, xs, size in specs:
        x = randn(*xs).requires_grad_()
        out = F.adaptive_avg_pool2d(x, size)
        go = randn(*out.shape)
        out.backward(go)
        cases.append({"name": name, "output_size": size, "input": tj(x), "grad_output": tj(go), "output": tj(out),
                      "grad_input": tj(x.grad)})
    return cases


def batch_norm():
    torch.manual_seed(14)
    # name, input shape, affine, running stats, training, momentum, eps
    specs = [
        ("train_affine_m0.1", [4, 3, 3, 3], True, True, True, 0.1, 1e-5),
        ("train_affine_m0.3_eps1e-3", [2, 2, 4, 5], True, True, True, 0.3, 1e-3),
        ("train_no_affine", [3, 3, 2, 3], False, True, True, 0.1, 1e-5),
        ("train_n1_hw12", [1, 3, 3, 4], True, True, True, 0.1, 1e-5),
        ("train_no_running_stats", [2, 3, 3, 2], True, False, True, 0.1, 1e-5),
        ("eval_affine", [2, 3, 3, 3], True, True, False, 0.1, 1e-5),
        ("eval_no_affine_m0.3", [3, 2, 2, 3], False, True, False, 0.3, 1e-3),
    ]
    cases = []
    for name, xs, affine, running, training, momentum, eps in specs:
        c = xs[1]
        x = (randn(*xs) * 2 + 0.5).requires_grad_()
        w = (randn(c) * 0.5 + 1).requires_grad_() if affine else None
        b = randn(c).requires_grad_() if affine else None
        rm = randn(c) * 0.3 if running else None
        rv = torch.rand(c, dtype=torch.float64) + 0.5 if running else None
        rm_after = rm.clone() if running else None
        rv_after = rv.clone() if running else None
        out = F.batch_norm(x, rm_after, rv_after, w, b, training, momentum, eps)
        go = randn(*out.shape)
        out.backward(go)
        cases.append({"name": name, "training": training, "momentum": momentum, "eps": eps, "input": tj(x),
                      "weight": tj(w), "bias": tj(b), "running_mean": tj(rm), "running_var": tj(rv),
                      "grad_output": tj(go), "output": tj(out), "grad_input": tj(x.grad),
                      "grad_weight": tj(w.grad if affine else None), "grad_bias": tj(b.grad if affine else None),
                      "running_mean_after": tj(rm_after), "running_var_after": tj(rv_after)})
    return cases


def main():
    data = {"generator": "tests/golden/gen_conv_golden.py", "torch": torch.__version__, "conv2d": conv2d(),
            "max_pool2d": max_pool2d(), "avg_pool2d": avg_pool2d(), "adaptive_avg_pool2d": adaptive_avg_pool2d(),
            "batch_norm": batch_norm()}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_golden.json")
    with open(path, "w") as f:
        json.dump(data, f)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
