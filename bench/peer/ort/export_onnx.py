#!/usr/bin/python3
"""Exports torchvision resnet50, vgg16, alexnet and googlenet (random weights, torch.manual_seed(0) per
model, eval mode) to ONNX for fovea's ONNX Runtime peer, with a fixed input of BATCH x 3 x 224 x 224,
plus a reference input (input.f32: 8 images) and each model's PyTorch output on it (<model>.ref.f32,
8 x 1000 float32 little-endian), so that the peer can check it computes the same thing.
At batch 8 the graphs are <model>.onnx, at any other batch <model>.b<BATCH>.onnx.

Run: /usr/bin/python3 export_onnx.py OUTDIR [OPSET=13] [BATCH=8]   (torch's exporter; the onnx package is not needed)"""
import os, sys, time

import torch, torchvision.models as tvm

out = sys.argv[1] if len(sys.argv) > 1 else 'models'
opset = int(sys.argv[2]) if len(sys.argv) > 2 else 13
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 8
if not 1 <= batch <= 8:
    sys.exit('batch %d: want 1 to 8' % batch)
os.makedirs(out, exist_ok=True)
ctors = {'resnet50': lambda: tvm.resnet50(), 'vgg16': lambda: tvm.vgg16(), 'alexnet': lambda: tvm.alexnet(),
         'googlenet': lambda: tvm.googlenet(aux_logits=False, init_weights=True)}
torch.set_num_threads(2)
g = torch.Generator().manual_seed(1234)
x = torch.randn(8, 3, 224, 224, generator=g)
x.numpy().astype('<f4').tofile(os.path.join(out, 'input.f32'))
print('torch', torch.__version__, 'opset', opset, 'batch', batch, flush=True)
for n, c in ctors.items():
    torch.manual_seed(0)
    m = c().eval()
    p = os.path.join(out, n + ('.onnx' if batch == 8 else '.b%d.onnx' % batch))
    t0 = time.time()
    with torch.no_grad():
        torch.onnx.export(m, x[:batch], p, opset_version=opset, input_names=['input'], output_names=['output'],
                          do_constant_folding=True)
        y = m(x)
    y.numpy().astype('<f4').tofile(os.path.join(out, n + '.ref.f32'))
    print('exported %s opset %d batch %d -> %s (%.1f MB, %.1fs), ref output |y|max %.3g' % (
        n, opset, batch, p, os.path.getsize(p) / 1e6, time.time() - t0, y.abs().max().item()), flush=True)
