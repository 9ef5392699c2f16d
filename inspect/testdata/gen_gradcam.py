#!/usr/bin/python3
"""Make gradcam.safetensors, the reference for gradcam_test.go.

The model is torchvision's ResNet with one BasicBlock per stage, stage widths
4, 8, 16, 32, the CIFAR stem (3x3 convolution, no max pooling) and 10 classes
(models/testdata/gen_torchvision.py's tiny_resnet, whose fixtures the Go
models tests load), with its batch norms' statistics redrawn. Beside the
state dict, the file holds:

  fixture.input                float32 [1, 32, 32, 3]  the input, NHWC
  fixture.logits               float32 [1, 10]
  fixture.cam.layer4.top       float32 [4, 4]     Grad-CAM at layer4, top class
  fixture.cam.layer4.class4    float32 [4, 4]     Grad-CAM at layer4, class 4
  fixture.cam.layer3.class4    float32 [8, 8]     Grad-CAM at layer3, class 4
  fixture.saliency.top         float32 [32, 32]   max over channels of |d score / d input|

Grad-CAM (Selvaraju et al. 2017): with A the layer's output maps and y the
class's logit (before the softmax), alpha_k = mean over (i, j) of
dy/dA_k[i, j] and the map is ReLU(sum_k alpha_k A_k), not normalised. All is
computed in float64 from the float32 weights, with forward hooks and
autograd, independently of fovea.

Run with /usr/bin/python3 (PyTorch 1.13, torchvision 0.14).
"""
import os
import sys

import torch
from torchvision.models.resnet import BasicBlock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # nothing left in models/testdata
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "testdata"))
from gen_torchvision import randomise_bn, save_safetensors, tiny_resnet  # noqa: E402

torch.set_num_threads(2)


def grad_cam(m, x, layer, cls):
    saved = {}
    h = getattr(m, layer).register_forward_hook(lambda mod, i, o: saved.__setitem__("a", o))
    logits = m(x)
    h.remove()
    a = saved["a"]
    if cls is None:
        cls = int(logits.argmax(1))
    (g,) = torch.autograd.grad(logits[0, cls], a)
    alpha = g.mean(dim=(2, 3), keepdim=True)
    return torch.relu((alpha * a).sum(1))[0]


def saliency(m, x):
    x = x.clone().requires_grad_(True)
    logits = m(x)
    (g,) = torch.autograd.grad(logits[0, int(logits.argmax(1))], x)
    return g.abs().amax(1)[0]


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    m = tiny_resnet(BasicBlock, 4, 10, True)
    randomise_bn(m, g)
    m.eval()
    state = {k: v.detach().clone() for k, v in m.state_dict().items()}
    x = torch.randn(1, 3, 32, 32, generator=g)
    md, xd = m.double(), x.double()
    with torch.no_grad():
        state["fixture.logits"] = md(xd).float()
    state["fixture.input"] = x.permute(0, 2, 3, 1)
    state["fixture.cam.layer4.top"] = grad_cam(md, xd, "layer4", None).detach()
    state["fixture.cam.layer4.class4"] = grad_cam(md, xd, "layer4", 4).detach()
    state["fixture.cam.layer3.class4"] = grad_cam(md, xd, "layer3", 4).detach()
    state["fixture.saliency.top"] = saliency(md, xd).detach()
    path = os.path.join(HERE, "gradcam.safetensors")
    save_safetensors(path, state, {"model": "resnet_tiny_cifar", "torch": torch.__version__})
    print("wrote %s: top class %d" % (path, int(state["fixture.logits"].argmax(1))))


if __name__ == "__main__":
    main()
