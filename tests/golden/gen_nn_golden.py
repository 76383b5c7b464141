#!/usr/bin/env python3
"""Writes nn_golden.json: losses (values and input gradients), optimizer trajectories and
learning-rate schedules computed by PyTorch, for tests/test_nn_golden.cpp.

Run with Debian's PyTorch: /usr/bin/python3 tests/golden/gen_nn_golden.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F


def tj(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.detach().reshape(-1).tolist()}


def losses():
    torch.manual_seed(1)
    x = torch.randn(5, 4, dtype=torch.float64)
    cls = torch.tensor([0, 3, 1, 1, 2])
    probs = torch.softmax(torch.randn(5, 4, dtype=torch.float64), 1)
    w = torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=torch.float64)
    y = torch.randn(5, 4, dtype=torch.float64)
    p01 = torch.sigmoid(torch.randn(5, 4, dtype=torch.float64))
    t01 = (torch.rand(5, 4) > 0.5).double()
    pos_w = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)
    logq = F.log_softmax(torch.randn(5, 4, dtype=torch.float64), 1)
    cases = {
        "mse_mean": lambda a: F.mse_loss(a, y),
        "mse_sum": lambda a: F.mse_loss(a, y, reduction="sum"),
        "l1_mean": lambda a: F.l1_loss(a, y),
        "huber_0.5": lambda a: F.huber_loss(a, y, delta=0.5),
        "smooth_l1_0.5": lambda a: F.smooth_l1_loss(a, y, beta=0.5),
        "ce": lambda a: F.cross_entropy(a, cls),
        "ce_sum": lambda a: F.cross_entropy(a, cls, reduction="sum"),
        "ce_weight": lambda a: F.cross_entropy(a, cls, weight=w),
        "ce_smooth": lambda a: F.cross_entropy(a, cls, label_smoothing=0.2),
        "ce_weight_smooth": lambda a: F.cross_entropy(a, cls, weight=w, label_smoothing=0.2),
        "ce_weight_smooth_sum": lambda a: F.cross_entropy(a, cls, weight=w, label_smoothing=0.2, reduction="sum"),
        "ce_probs": lambda a: F.cross_entropy(a, probs),
        "ce_probs_weight_smooth": lambda a: F.cross_entropy(a, probs, weight=w, label_smoothing=0.1),
        "nll": lambda a: F.nll_loss(F.log_softmax(a, 1), cls),
        "nll_weight": lambda a: F.nll_loss(F.log_softmax(a, 1), cls, weight=w),
        "bce": lambda a: F.binary_cross_entropy(torch.sigmoid(a), t01),
        "bce_logits": lambda a: F.binary_cross_entropy_with_logits(a, t01),
        "bce_logits_pos_weight": lambda a: F.binary_cross_entropy_with_logits(a, t01, pos_weight=pos_w),
        "kl_batchmean": lambda a: F.kl_div(F.log_softmax(a, 1), probs, reduction="batchmean"),
        "kl_sum_log_target": lambda a: F.kl_div(F.log_softmax(a, 1), logq, reduction="sum", log_target=True),
    }
    out = {"input": tj(x), "classes": tj(cls), "probs": tj(probs), "weight": tj(w), "target": tj(y), "bits": tj(t01),
           "pos_weight": tj(pos_w), "log_target": tj(logq), "cases": {}}
    for name, fn in cases.items():
        a = x.clone().requires_grad_()
        loss = fn(a)
        loss.backward()
        out["cases"][name] = {"value": loss.item(), "grad": tj(a.grad)}
    return out


def optimizers():
    torch.manual_seed(2)
    w0 = torch.randn(3, 4, dtype=torch.float64)
    b0 = torch.randn(3, dtype=torch.float64)
    x = torch.randn(4, 6, dtype=torch.float64)
    y = torch.randn(3, 6, dtype=torch.float64)

    def loss_fn(w, b):
        return ((w @ x + b.unsqueeze(1) - y) ** 2).mean() + 0.1 * (w ** 3).sum()

    configs = {
        "sgd": (torch.optim.SGD, {"lr": 0.1}),
        "sgd_momentum_dampening": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
        "sgd_nesterov_wd": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
        "adam": (torch.optim.Adam, {"lr": 0.01}),
        "adam_amsgrad_wd": (torch.optim.Adam, {"lr": 0.02, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True}),
        "adamw": (torch.optim.AdamW, {"lr": 0.01}),
        "adamw_amsgrad": (torch.optim.AdamW, {"lr": 0.02, "weight_decay": 0.05, "amsgrad": True}),
        "rmsprop": (torch.optim.RMSprop, {"lr": 0.01}),
        "rmsprop_centered_momentum_wd": (torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5,
                                                                "centered": True, "weight_decay": 0.02}),
        "adagrad": (torch.optim.Adagrad, {"lr": 0.1}),
        "adagrad_decay_wd_init": (torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01,
                                                         "initial_accumulator_value": 0.2}),
    }
    def trajectory(make_optimizer):
        w = w0.clone().requires_grad_()
        b = b0.clone().requires_grad_()
        opt = make_optimizer(w, b)
        steps = []
        for _ in range(6):
            opt.zero_grad()
            loss_fn(w, b).backward()
            opt.step()
            steps.append({"w": tj(w), "b": tj(b)})
        return steps

    out = {"w0": tj(w0), "b0": tj(b0), "x": tj(x), "y": tj(y), "steps": 6, "cases": {}}
    for name, (cls, kwargs) in configs.items():
        out["cases"][name] = trajectory(lambda w, b: cls([w, b], **kwargs))
    # Parameter groups: w and b with their own lr and weight decay.
    out["cases"]["sgd_groups"] = trajectory(lambda w, b: torch.optim.SGD(
        [{"params": [w], "lr": 0.1, "weight_decay": 0.05}, {"params": [b], "lr": 0.01}], lr=0.5, momentum=0.9))
    return out


def schedules():
    def lrs(make, epochs=12, metrics=None):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        seq = []
        for e in range(epochs):
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[e])
            seq.append(opt.param_groups[0]["lr"])
        return seq

    S = torch.optim.lr_scheduler
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95]
    return {
        "step_3_0.5": lrs(lambda o: S.StepLR(o, 3, 0.5)),
        "multistep_2_5_9_0.3": lrs(lambda o: S.MultiStepLR(o, [2, 5, 9], 0.3)),
        "exponential_0.9": lrs(lambda o: S.ExponentialLR(o, 0.9)),
        "cosine_10_0.01": lrs(lambda o: S.CosineAnnealingLR(o, 10, 0.01), epochs=10),
        "linear_warmup_4_0.25": lrs(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4)),
        "plateau_min_0.5_p1_c1": lrs(lambda o: S.ReduceLROnPlateau(o, "min", factor=0.5, patience=1, cooldown=1),
                                     metrics=metrics),
        "plateau_metrics": metrics,
    }


def main():
    data = {"generator": "tests/golden/gen_nn_golden.py", "torch": torch.__version__,
            "losses": losses(), "optimizers": optimizers(), "schedules": schedules()}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_golden.json")
    with open(path, "w") as f:
        json.dump(data, f)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
