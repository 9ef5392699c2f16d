#!/usr/bin/python3
"""Make torch_net.safetensors, the PyTorch reference for torch_test.go.

A small CNN, conv3x3(3->6, pad 1) - BatchNorm2d (training) - ReLU -
MaxPool 2x2 - flatten - Linear(96 -> 5) - cross-entropy with label
smoothing 0.1, runs forward and backward in float64 on float32 inputs.
Everything is saved in fovea's layouts: images NCHW -> NHWC, conv filters
OIHW -> HWIO, and the Linear weight [out, C*H*W] -> [H*W*C, out], its rows
permuted from PyTorch's (c, h, w) flatten order to NHWC's (h, w, c).

Run with /usr/bin/python3 (PyTorch 1.13 CPU); it needs nothing else.
"""
import json
import os
import struct

import torch

torch.set_num_threads(2)
torch.manual_seed(0)

N, C, H, W, C1, CLASSES = 4, 3, 8, 8, 6, 5

x = torch.randn(N, C, H, W)
conv = torch.nn.Conv2d(C, C1, 3, padding=1)
bn = torch.nn.BatchNorm2d(C1)
with torch.no_grad():
    bn.weight.copy_(1 + 0.5 * torch.randn(C1))
    bn.bias.copy_(0.5 * torch.randn(C1))
fc = torch.nn.Linear(C1 * (H // 2) * (W // 2), CLASSES)
labels = torch.randint(0, CLASSES, (N,))

# Keep the float32 parameters; compute in float64 for a clean reference.
params32 = {"x": x, "conv.w": conv.weight.detach().clone(), "conv.b": conv.bias.detach().clone(),
            "bn.gamma": bn.weight.detach().clone(), "bn.beta": bn.bias.detach().clone(),
            "fc.w": fc.weight.detach().clone(), "fc.b": fc.bias.detach().clone()}
for m in (conv, bn, fc):
    m.double()
xd = x.double().requires_grad_()
h = torch.relu(bn(conv(xd)))
h = torch.nn.functional.max_pool2d(h, 2)
logits = fc(h.flatten(1))
loss = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1)
loss.backward()


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def hwio(t):
    return t.permute(2, 3, 1, 0)


def dense(t):  # [out, C*H*W] in (c, h, w) order -> [H*W*C, out]
    return t.reshape(CLASSES, C1, H // 2, W // 2).permute(2, 3, 1, 0).reshape(-1, CLASSES)


out = {
    "x": nhwc(params32["x"]),
    "conv.w": hwio(params32["conv.w"]), "conv.b": params32["conv.b"],
    "bn.gamma": params32["bn.gamma"], "bn.beta": params32["bn.beta"],
    "fc.w": dense(params32["fc.w"]), "fc.b": params32["fc.b"],
    "labels": labels.int(),
    "loss": loss.detach(), "logits": logits.detach(),
    "bn.running_mean": bn.running_mean, "bn.running_var": bn.running_var,
    "grad.x": nhwc(xd.grad),
    "grad.conv.w": hwio(conv.weight.grad), "grad.conv.b": conv.bias.grad,
    "grad.bn.gamma": bn.weight.grad, "grad.bn.beta": bn.bias.grad,
    "grad.fc.w": dense(fc.weight.grad), "grad.fc.b": fc.bias.grad,
}


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.int32:
            dtype, raw = "I32", struct.pack("<%di" % t.numel(), *t.flatten().tolist())
        else:
            dtype, raw = "F32", struct.pack("<%df" % t.numel(), *t.float().flatten().tolist())
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


save_safetensors(os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_net.safetensors"), out)
print("loss", loss.item())
