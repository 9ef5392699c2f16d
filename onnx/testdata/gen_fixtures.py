#!/usr/bin/python3
"""ONNX fixtures for package onnx, exported by PyTorch (torch.onnx.export).

  gen_fixtures.py small [DIR]    small graphs covering the supported ops at opsets
                                 7 to 17, checked in beside this script (DIR=.)
  gen_fixtures.py tiny [DIR]     tiny_cnn_op13: a small classifier (16x16 RGB, 3
                                 classes, batch norms kept) that cmd/fovea's tests
                                 fine-tune, checked in beside this script (DIR=.)
  gen_fixtures.py zoo DIR NAMES  torchvision models (resnet18, googlenet, alexnet,
                                 vgg11_bn; resnet50, vgg16 for bench) for the
                                 parity tests, built at test time

Each NAME.onnx comes with NAME.ref.safetensors holding "input" (NCHW, as
the graph takes it) and "output" (PyTorch's result in float32). Weights
are re-drawn so that every layer matters to the logits: He-normal
convolutions and dense layers, random biases and batch-norm statistics
(torchvision's own inits leave GoogLeNet's and AlexNet's logits nearly
equal to the last bias, which would make a comparison weak). Models are
exported in eval mode; NAME_bn variants keep BatchNormalization nodes
(training=PRESERVE, no constant folding) instead of folding them into
the convolutions.

Run with /usr/bin/python3 (PyTorch 1.13, torchvision 0.14); nothing else.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        b = t.detach().contiguous().float().numpy().astype('<f4').tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def redraw(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    return model


def export(model, x, path, opset, bn=False, dynamic=True):
    kw = dict(opset_version=opset, input_names=['input'], output_names=['output'])
    if dynamic:
        kw['dynamic_axes'] = {'input': {0: 'N'}, 'output': {0: 'N'}}
    if bn:
        kw.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    with torch.no_grad():
        torch.onnx.export(model, x, path + '.onnx', **kw)
        y = model(x)
    save_safetensors(path + '.ref.safetensors', {'input': x, 'output': y})


class Ops(nn.Module):
    """Most supported ops in one small graph (8x8 RGB in, 5 class probabilities out)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 4, 1, stride=1)
        self.conv4 = nn.Conv2d(12, 6, (3, 2), stride=(2, 1), padding=(1, 0))
        self.fc1 = nn.Linear(6 * 4 * 6, 10)
        self.fc2 = nn.Linear(10, 5)
        self.scale = nn.Parameter(torch.randn(1, 8, 1, 1))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)) + y)           # fused residual unit
        y = y * self.scale - 0.25                           # broadcast Mul, Sub
        y = F.leaky_relu(y, 0.1)
        z = torch.sigmoid(self.conv3(y)) / 2 + torch.tanh(y[:, :4])  # Slice
        y = torch.cat([y, z], 1)
        y = F.max_pool2d(y, 3, stride=2, padding=1, ceil_mode=True)
        y = F.pad(y, (1, 0, 0, 1))
        y = F.avg_pool2d(y, 2, stride=1, padding=1, count_include_pad=False)
        y = F.hardtanh(self.conv4(y), -0.5, 2.0)           # Clip
        y = torch.flatten(y, 1)
        y = F.dropout(F.relu(self.fc1(y)), 0.5, self.training)
        return torch.softmax(self.fc2(y), 1)


class Shapes(nn.Module):
    """Reshape, Transpose, Slice, Squeeze/Unsqueeze, MatMul, Concat off the channels, GlobalAveragePool."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.w = nn.Parameter(torch.randn(8, 3) / 3)
        self.fc = nn.Linear(3 * 6 * 3, 4)

    def forward(self, x):
        y = F.relu(self.conv(x))                              # [N 6 8 8]
        g = F.adaptive_avg_pool2d(y, 1)                       # [N 6 1 1]
        y = torch.cat([y, y.transpose(2, 3)], 3)              # [N 6 8 16]
        y = y.reshape(2, 6, 8, 16)[:, :, :, ::2]              # [N 6 8 8]
        y = y.permute(0, 2, 1, 3) @ self.w                    # MatMul by a constant: [N 8 6 3]
        y = y + 0.1 * (y @ y.transpose(2, 3)) @ y             # MatMul of computed values
        y = y[:, 2:5].reshape(2, -1)                          # [N 72]
        y = self.fc(y) + g.squeeze(3).squeeze(2)[:, :4]
        return y.unsqueeze(1).squeeze(1)


class Deconv(nn.Module):
    """ConvTranspose (stride, padding, output_padding, dilation) between convolutions."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 5, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(5, 2, 2, stride=1, dilation=2, bias=False)

    def forward(self, x):
        return self.up2(torch.relu(self.up(torch.relu(self.conv(x)))))


class TinyCNN(nn.Module):
    """A small classifier as fine-tuning meets it: conv-bn-relu twice, pooling, a Linear head (16x16 RGB, 3 logits)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        y = F.relu(self.bn2(self.conv2(y)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def tiny(out):
    torch.manual_seed(0)
    m = redraw(TinyCNN(), 5).eval()
    export(m, torch.randn(2, 3, 16, 16), os.path.join(out, 'tiny_cnn_op13'), 13, bn=True)


def small(out):
    torch.manual_seed(0)
    for opset in (9, 11, 13, 17):
        m = redraw(Ops(), 1).eval()
        x = torch.randn(2, 3, 8, 8)
        export(m, x, os.path.join(out, 'ops_op%d' % opset), opset, bn=True)
    m = redraw(Ops(), 1).eval()
    export(m, torch.randn(2, 3, 8, 8), os.path.join(out, 'ops_folded_op13'), 13)
    m = redraw(Ops(), 2).eval()
    export(m, torch.randn(2, 3, 8, 8), os.path.join(out, 'ops_op7'), 7, bn=True, dynamic=False)
    for opset in (9, 17):
        m = redraw(Deconv(), 4).eval()
        export(m, torch.randn(2, 3, 8, 8), os.path.join(out, 'deconv_op%d' % opset), opset)
    for opset in (11, 17):
        m = redraw(Shapes(), 3).eval()
        export(m, torch.randn(2, 3, 8, 8), os.path.join(out, 'shapes_op%d' % opset), opset, dynamic=False)


def zoo(out, names):
    import torchvision.models as tvm
    ctors = {'resnet18': lambda: tvm.resnet18(), 'googlenet': lambda: tvm.googlenet(aux_logits=False, init_weights=False),
             'alexnet': lambda: tvm.alexnet(), 'vgg11_bn': lambda: tvm.vgg11_bn(),
             'resnet50': lambda: tvm.resnet50(), 'vgg16': lambda: tvm.vgg16()}
    os.makedirs(out, exist_ok=True)
    for n in names:
        bn = n.endswith('_bn')
        base = n[:-3] if bn and n != 'vgg11_bn' else n
        if n == 'vgg11_bn':
            bn = True
        torch.manual_seed(0)
        m = redraw(ctors[base](), 7).eval()
        x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))
        export(m, x, os.path.join(out, n), 17 if n != 'alexnet' else 13, bn=bn)
        print('exported', n, flush=True)


if __name__ == '__main__':
    if sys.argv[1] in ('small', 'tiny'):
        here = os.path.dirname(os.path.abspath(__file__))
        {'small': small, 'tiny': tiny}[sys.argv[1]](sys.argv[2] if len(sys.argv) > 2 else here)
    else:
        zoo(sys.argv[2], sys.argv[3].split(','))
