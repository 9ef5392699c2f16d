#!/usr/bin/python3
"""Make optim.json, the PyTorch reference for torch_test.go.

Each optimiser case runs 6 steps of torch.optim (single-tensor code path,
foreach=False) on two float32 parameters with fixed gradients, in two
param groups: "a" at the base learning rate and weight decay, "b" at half
the rate with its own weight decay, and "b" without a gradient (frozen)
for the first two steps. The trajectory of both parameters is saved.

The schedule cases step torch.optim.lr_scheduler schedulers and record
the learning rate at t = 0, 1, ...

Run with /usr/bin/python3 (PyTorch 1.13 CPU); it needs nothing else.
"""
import json
import os

import torch

torch.set_num_threads(2)
torch.manual_seed(0)

STEPS = 6
A0 = torch.randn(2, 3)
B0 = torch.randn(4)
GRADS = [{"a": torch.randn(2, 3), "b": torch.randn(4)} for _ in range(STEPS)]
FROZEN_B = 2  # b has no gradient for the first two steps

CASES = [
    # name, class, base kwargs, group b scale, group b weight decay (None: inherit)
    ("sgd", "SGD", dict(lr=0.1), 0.5, None),
    ("sgd_wd", "SGD", dict(lr=0.1, weight_decay=0.01), 0.5, 0.0),
    ("sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9), 0.5, None),
    ("sgd_dampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01), 0.5, 0.05),
    ("sgd_nesterov", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3), 0.5, None),
    ("adam", "Adam", dict(lr=0.01), 0.5, None),
    ("adam_wd", "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), 0.5, 0.0),
    ("adam_amsgrad", "Adam", dict(lr=0.01, weight_decay=0.01, amsgrad=True), 0.5, None),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.1), 0.5, 0.5),
    ("adamw_amsgrad", "AdamW", dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.01, amsgrad=True), 0.5, None),
    ("rmsprop", "RMSprop", dict(lr=0.01), 0.5, None),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, weight_decay=0.01), 0.5, 0.0),
    ("rmsprop_centered", "RMSprop", dict(lr=0.01, centered=True, eps=1e-4), 0.5, None),
    ("rmsprop_full", "RMSprop", dict(lr=0.005, alpha=0.8, momentum=0.5, centered=True, weight_decay=0.1), 0.5, 0.2),
]


def run(cls, kw, bscale, bwd):
    a = A0.clone().requires_grad_()
    b = B0.clone().requires_grad_()
    gb = {"params": [b], "lr": kw["lr"] * bscale}
    if bwd is not None:
        gb["weight_decay"] = bwd
    opt = getattr(torch.optim, cls)([{"params": [a]}, gb], foreach=False, **kw)
    traj = []
    for t, g in enumerate(GRADS):
        a.grad = g["a"].clone()
        b.grad = None if t < FROZEN_B else g["b"].clone()
        opt.step()
        traj.append({"a": a.detach().flatten().tolist(), "b": b.detach().flatten().tolist()})
    return traj


def lrs(make, n, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    s = make(opt)
    out = [opt.param_groups[0]["lr"]]
    for t in range(1, n):
        opt.step()
        if metrics is None:
            s.step()
        else:
            s.step(metrics[t - 1])
        out.append(opt.param_groups[0]["lr"])
    return out


S = torch.optim.lr_scheduler
PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.91, 0.899, 0.9, 0.85, 0.86, 0.87, 0.88, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
ACC_METRICS = [0.1, 0.2, 0.25, 0.26, 0.2, 0.3, 0.3, 0.31, 0.5, 0.5, 0.5, 0.5, 0.5]
schedules = {
    "step": lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 10),
    "multistep": lrs(lambda o: S.MultiStepLR(o, milestones=[2, 5, 6], gamma=0.1), 9),
    "exponential": lrs(lambda o: S.ExponentialLR(o, gamma=0.9), 8),
    "cosine": lrs(lambda o: S.CosineAnnealingLR(o, T_max=6, eta_min=0.001), 15),
    "linear_up": lrs(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 7),
    "linear_down": lrs(lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=5), 8),
    "warmup_cosine": lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=3),
                                                     S.CosineAnnealingLR(o, T_max=5)], milestones=[3]), 10),
    "plateau_min": lrs(lambda o: S.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2, threshold=0.01,
                                                     cooldown=1, min_lr=0.01), len(PLATEAU_METRICS) + 1, PLATEAU_METRICS),
    "plateau_max_abs": lrs(lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.2, patience=1, threshold=0.005,
                                                         threshold_mode="abs"), len(ACC_METRICS) + 1, ACC_METRICS),
}

out = {
    "a0": A0.flatten().tolist(), "b0": B0.flatten().tolist(),
    "grads": [{"a": g["a"].flatten().tolist(), "b": g["b"].flatten().tolist()} for g in GRADS],
    "frozen_b": FROZEN_B,
    "cases": [{"name": n, "class": c, "kw": kw, "bscale": s, "bwd": w, "traj": run(c, kw, s, w)} for n, c, kw, s, w in CASES],
    "schedules": schedules,
    "plateau_metrics": PLATEAU_METRICS, "acc_metrics": ACC_METRICS,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json"), "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
