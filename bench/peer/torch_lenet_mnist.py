#!/usr/bin/python3
"""PyTorch's side of `go run ./bench time99`: LeNet-5 on MNIST, timed to 99% test top-1.

Set-up (Debian): apt-get install -y python3-torch libopenblas0-openmp
Run with /usr/bin/python3 (the interpreter Debian's torch is installed for).

  torch_lenet_mnist.py [--data DIR] [--epochs 12] [--threads 2] [--seed 1] [--limit N]

Trains the same LeNet-5 as fovea's models.NewLeNet5 with ReLU (PyTorch's default
initialisation) on the 60,000 MNIST training images read from fovea's bundled IDX files
(DIR, default datasets/mnist of the checkout this script is in; pixels / 255 as float32, no
normalisation), with Adam (lr 1e-3), batch 64 (the last batch holds the remainder), a new
seeded shuffle every epoch and CosineAnnealingLR(T_max=epochs) stepped once per epoch. After
every epoch it scores the 10,000 test images (batch 64) and stops after the first epoch whose
test top-1 reaches 0.99. The clock starts when training starts (data already loaded) and
includes the evaluations. Progress goes to stderr; the result is one JSON line on stdout:

  {"seconds_to_99": s or null, "epoch": e or null, "final_top1": a, "epochs_run": n}
"""
import argparse, gzip, json, os, struct, sys, time

import numpy as np


def read_idx(path):
    """Returns the array in a gzipped IDX file (unsigned bytes, as MNIST's are)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    if magic >> 8 != 0x08:  # 0x0000080N: unsigned byte, N dimensions
        sys.exit("%s: magic %#x: not an unsigned-byte IDX file" % (path, magic))
    ndim = magic & 0xFF
    dims = struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data, prefix, limit=0):
    import torch
    x = read_idx(os.path.join(data, prefix + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data, prefix + "-labels-idx1-ubyte.gz"))
    if limit:
        x, y = x[:limit], y[:limit]
    x = torch.from_numpy(x.astype(np.float32) / 255).unsqueeze(1)  # N×1×28×28
    return x.contiguous(), torch.from_numpy(y.astype(np.int64))


def lenet5(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "datasets", "mnist"))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", type=float, default=0.99)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (for smoke tests)")
    a = ap.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train", a.limit)
    xte, yte = load(a.data, "t10k")
    model = lenet5(torch.nn)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    lossf = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    n = len(ytr)

    def evaluate():
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(yte), a.batch):
                correct += (model(xte[i:i + a.batch]).argmax(1) == yte[i:i + a.batch]).sum().item()
        model.train()
        return correct / len(yte)

    seconds, epoch, top1, run = None, None, 0.0, 0
    t0 = time.perf_counter()
    for e in range(a.epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad(set_to_none=True)
            lossf(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
        sched.step()
        top1, run = evaluate(), e + 1
        now = time.perf_counter() - t0
        print("torch epoch %d: test top-1 %.4f (%.1f s)" % (run, top1, now), file=sys.stderr, flush=True)
        if top1 >= a.target:
            seconds, epoch = now, run
            break
    print(json.dumps({"seconds_to_99": None if seconds is None else round(seconds, 3), "epoch": epoch,
                      "final_top1": top1, "epochs_run": run}), flush=True)


if __name__ == "__main__":
    main()
