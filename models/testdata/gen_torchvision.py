#!/usr/bin/python3
"""Make torchvision fixtures for torchvision_test.go.

Each fixture is a safetensors file holding a torchvision model's state dict
exactly as PyTorch keeps it (NCHW/OIHW layouts, torchvision's names, the
int64 num_batches_tracked counters), plus two extra tensors:

  fixture.input   float32 [N, H, W, 3]   the input, NHWC (fovea's layout)
  fixture.logits  float32 [N, classes]   torchvision's logits for it, in eval mode

The weights are torchvision's random initialisation, with every batch
norm's weight, bias, running mean and running variance redrawn so that the
test exercises them. The logits are computed in float64 from the float32
weights, a clean reference for fovea's float32.

  gen_torchvision.py                 write the small fixtures checked in here
  gen_torchvision.py DIR NAME...     write NAME.safetensors into DIR for the
                                     big models (resnet18_cifar, googlenet_aux,
                                     resnet50, alexnet, vgg11_bn, ...), which the
                                     Go test makes at run time when PyTorch is
                                     installed

Run with /usr/bin/python3 (PyTorch 1.13 CPU, torchvision 0.14); it needs
nothing else: the safetensors file is written by hand (see
weights/testdata/gen_safetensors.py for the format).
"""
import json
import os
import struct
import sys

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.models.vgg import VGG, make_layers

torch.set_num_threads(2)
HERE = os.path.dirname(os.path.abspath(__file__))


def tiny_resnet(block, width, classes, cifar):
    """torchvision's ResNet with one block per stage and stage widths
    width, 2·width, 4·width, 8·width, built with its own _make_layer."""
    m = ResNet(block, [1, 1, 1, 1], num_classes=classes)
    m.inplanes = width
    if cifar:
        m.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
    else:
        m.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    m.bn1 = nn.BatchNorm2d(width)
    m.layer1 = m._make_layer(block, width, 1)
    m.layer2 = m._make_layer(block, width * 2, 1, stride=2)
    m.layer3 = m._make_layer(block, width * 4, 1, stride=2)
    m.layer4 = m._make_layer(block, width * 8, 1, stride=2)
    m.fc = nn.Linear(width * 8 * block.expansion, classes)
    return m


def cifar_resnet(depth, classes):
    m = getattr(torchvision.models, "resnet%d" % depth)(num_classes=classes)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


def tiny_vgg11_bn(divisor, classes):
    """torchvision's vgg11_bn with every width divided by divisor."""
    cfg = [v if v == "M" else v // divisor for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]]
    m = VGG(make_layers(cfg, batch_norm=True), num_classes=classes)
    c, h = 512 // divisor, 4096 // divisor
    m.classifier = nn.Sequential(nn.Linear(c * 7 * 7, h), nn.ReLU(True), nn.Dropout(), nn.Linear(h, h), nn.ReLU(True),
                                 nn.Dropout(), nn.Linear(h, classes))
    return m


# name: (constructor, batch, side)
SMALL = {
    "resnet_tiny_cifar": (lambda: tiny_resnet(BasicBlock, 4, 10, True), 2, 32),
    "resnet_tiny_bottleneck": (lambda: tiny_resnet(Bottleneck, 4, 7, False), 2, 64),
    "vgg11_bn_tiny": (lambda: tiny_vgg11_bn(32, 5), 2, 32),
}
BIG = {
    "resnet18_cifar": (lambda: cifar_resnet(18, 10), 2, 32),
    "resnet50": (lambda: torchvision.models.resnet50(), 1, 64),
    "resnet18": (lambda: torchvision.models.resnet18(), 2, 224),
    "googlenet_aux": (lambda: torchvision.models.GoogLeNet(aux_logits=True, init_weights=True), 1, 96),
    "alexnet": (lambda: torchvision.models.alexnet(), 1, 224),
    "vgg11_bn": (lambda: torchvision.models.vgg11_bn(), 1, 224),
}


def randomise_bn(m, g):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            c = mod.num_features
            with torch.no_grad():
                mod.weight.copy_(0.5 + torch.rand(c, generator=g))
                mod.bias.copy_(0.1 * torch.randn(c, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=g))
                mod.num_batches_tracked.fill_(3)


def make(name, spec, path):
    new, batch, side = spec
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    m = new()
    randomise_bn(m, g)
    m.eval()
    state = {k: v.detach().clone() for k, v in m.state_dict().items()}
    x = torch.randn(batch, 3, side, side, generator=g)
    with torch.no_grad():
        logits = m.double()(x.double()).float()
    state["fixture.input"] = x.permute(0, 2, 3, 1)
    state["fixture.logits"] = logits
    save_safetensors(path, state, {"model": name, "torch": torch.__version__, "torchvision": torchvision.__version__})
    if name in BIG:
        # The state dict as torchvision users hold it: torch.save's .pth.
        torch.save({k: v for k, v in state.items() if not k.startswith("fixture.")}, path[:-len(".safetensors")] + ".pth")
    print("wrote %s: %d tensors, logits %s" % (path, len(state), list(logits.shape)))


def save_safetensors(path, tensors, meta):
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.int64:
            dtype, raw = "I64", struct.pack("<%dq" % t.numel(), *t.flatten().tolist())
        else:
            dtype, raw = "F32", t.float().numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


if __name__ == "__main__":
    if len(sys.argv) == 1:
        for name, spec in SMALL.items():
            make(name, spec, os.path.join(HERE, name + ".safetensors"))
    else:
        out = sys.argv[1]
        for name in sys.argv[2:]:
            if name not in BIG and name not in SMALL:
                sys.exit("unknown fixture %r; known: %s" % (name, ", ".join(list(BIG) + list(SMALL))))
            make(name, BIG.get(name) or SMALL[name], os.path.join(out, name + ".safetensors"))
