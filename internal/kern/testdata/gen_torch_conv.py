#!/usr/bin/python3
"""Makes torch_conv.bin: PyTorch's conv2d forward and both backward passes on
a few small cases, the golden data of conv_torch_test.go.

Run from this directory with Debian's PyTorch (python3-torch):
    /usr/bin/python3 gen_torch_conv.py

Layout of the file: one line of JSON (the cases, each with its parameters
and the names and shapes of its arrays, in order), then the arrays as
little-endian float32, already in fovea's layouts: activations NHWC,
filters HWIO.
"""
import json
import torch

torch.manual_seed(20261126)
torch.set_num_threads(2)

# n, h, w, cin, cout, kh, kw, stride (h, w), pad (t, b, l, r), dilation (h, w)
CASES = [
    (2, 9, 8, 5, 7, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    (2, 11, 10, 6, 4, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1)),
    (1, 12, 12, 4, 8, 3, 3, (1, 1), (2, 2, 2, 2), (2, 2)),
    (1, 15, 13, 3, 16, 7, 7, (2, 2), (3, 3, 3, 3), (1, 1)),
    (1, 6, 5, 32, 40, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1)),
    (1, 8, 7, 9, 20, 5, 3, (1, 2), (2, 1, 0, 2), (1, 1)),
]

header, blobs = [], []
for n, h, w, cin, cout, kh, kw, st, pad, dil in CASES:
    x = torch.randn(n, cin, h, w, dtype=torch.float64, requires_grad=True)
    wt = (torch.randn(cout, cin, kh, kw, dtype=torch.float64) * 0.2).requires_grad_(True)
    b = torch.randn(cout, dtype=torch.float64, requires_grad=True)
    # Asymmetric padding: pad explicitly (F.pad's order is l, r, t, b).
    t, bo, l, r = pad
    xp = torch.nn.functional.pad(x, (l, r, t, bo))
    y = torch.nn.functional.conv2d(xp, wt, b, stride=st, dilation=dil)
    dy = torch.randn_like(y)
    y.backward(dy)
    nhwc = lambda a: a.detach().permute(0, 2, 3, 1).contiguous().float()
    hwio = lambda a: a.detach().permute(2, 3, 1, 0).contiguous().float()
    arrays = [("x", nhwc(x)), ("w", hwio(wt)), ("b", b.detach().float()), ("dy", nhwc(dy)),
              ("y", nhwc(y)), ("dx", nhwc(x.grad)), ("dw", hwio(wt.grad)), ("db", b.grad.float())]
    header.append({"n": n, "h": h, "w": w, "cin": cin, "cout": cout, "kh": kh, "kw": kw,
                   "sh": st[0], "sw": st[1], "pad": list(pad), "dh": dil[0], "dw": dil[1],
                   "arrays": [[name, list(a.shape)] for name, a in arrays]})
    blobs += [a.numpy().astype("<f4").tobytes() for _, a in arrays]

with open("torch_conv.bin", "wb") as f:
    f.write(json.dumps(header).encode() + b"\n")
    for blob in blobs:
        f.write(blob)
