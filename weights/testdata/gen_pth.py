#!/usr/bin/python3
"""Make the PyTorch fixtures of pth_test.go: small files written by
torch.save, and beside each readable one, expect_<name>.safetensors
holding what torch itself reads back from it, every tensor converted to
contiguous float32 (written by hand, as gen_safetensors.py does, so the
expectation does not depend on the reader under test).

    /usr/bin/python3 gen_pth.py            # the checked-in fixtures, here
    /usr/bin/python3 gen_pth.py --resnet18 DIR
        # torchvision's resnet18 (random weights) in DIR, for
        # TestTorchvisionResNet18, which runs this when torch is present

The fixtures (torch 1.13, seeds fixed):

  conv_zip.pth      a tiny conv net's state dict (conv, batch norm with
                    int64 num_batches_tracked, linear), zip format
  conv_legacy.pth   the same, _use_new_zipfile_serialization=False
  half.pth          float16 and bfloat16 tensors
  timm.pth          {"epoch", "arch", "state_dict", "optimizer", "version"}
                    as timm's train script saves, the optimiser's state
                    holding tensors and int keys
  lightning.pth     {"epoch", "global_step", "model": state dict}
  views.pth         views of shared storages: a transpose, slices at
                    storage offsets, one tensor under two names, an
                    expand (stride 0), a 0-d tensor, an empty one, and
                    float64, int32, int16, int8, uint8 and bool storages
  views_legacy.pth  the same in the legacy format
  param.pth         nn.Parameter values (torch._utils._rebuild_parameter)
  evil.pth          a pickle that calls os.system (it must never run)
  evil_legacy.pth   the same in the legacy format
  model.pth         a whole nn.Module (torch.save(model)), not a state dict
"""
import collections
import json
import os
import struct
import sys

import torch


def write_expect(path, sd):
    """Write sd's tensors as F32 safetensors, by hand."""
    header, data = {}, b""
    for k in sorted(sd):
        t = sd[k].detach().to(torch.float32).contiguous()
        b = t.numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def tiny():
    torch.manual_seed(0)
    m = torch.nn.Sequential(
        collections.OrderedDict(
            conv=torch.nn.Conv2d(3, 4, 3),
            bn=torch.nn.BatchNorm2d(4),
            flat=torch.nn.Flatten(),
            fc=torch.nn.Linear(4, 2),
        )
    )
    m.bn.running_mean.normal_()
    m.bn.running_var.uniform_(0.5, 2)
    m.bn.num_batches_tracked.fill_(12345)
    return m


def save(name, obj, expect=None, legacy=False):
    torch.save(obj, name, _use_new_zipfile_serialization=not legacy)
    if expect is not None:
        # What torch reads back is the expectation.
        back = torch.load(name)
        for k in ("state_dict", "model"):
            if isinstance(back, dict) and isinstance(back.get(k), dict):
                back = back[k]
                break
        write_expect("expect_" + os.path.splitext(name)[0] + ".safetensors", back)


def views():
    torch.manual_seed(1)
    base = torch.randn(4, 6)
    w = torch.randn(3, 2)
    flat = torch.arange(20, dtype=torch.float64) / 7
    return collections.OrderedDict(
        [
            ("base", base),
            ("transposed", base.t()),  # stride (1, 6)
            ("slice", base[1:3, 2:5]),  # offset 8, stride (6, 1)
            ("column", base[:, 4]),  # offset 4, stride (6,)
            ("tied.a", w),
            ("tied.b", w),  # the same tensor twice
            ("expanded", torch.tensor([1.5, -2.0]).expand(3, 2)),  # stride (0, 1)
            ("scalar", torch.tensor(3.25)),
            ("empty", torch.empty(0, 3)),
            ("f64", flat[3:9].view(2, 3)),
            ("i32", torch.tensor([[-7, 8], [2**31 - 1, -(2**31)]], dtype=torch.int32)),
            ("i16", torch.tensor([-300, 300], dtype=torch.int16)),
            ("i8", torch.tensor([-128, 127], dtype=torch.int8)),
            ("u8", torch.tensor([0, 255, 7], dtype=torch.uint8)[1:]),
            ("bool", torch.tensor([True, False, True])),
            ("i64", torch.tensor([2**40 + 1, -5], dtype=torch.int64)),
        ]
    )


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run >&2",))


def fixtures():
    m = tiny()
    sd = m.state_dict()
    save("conv_zip.pth", sd, expect=True)
    save("conv_legacy.pth", sd, expect=True, legacy=True)

    torch.manual_seed(2)
    half = collections.OrderedDict(
        [
            ("h", torch.randn(2, 3).half()),
            ("h.special", torch.tensor([65504, 2**-24, -0.0, 1 / 3], dtype=torch.float16)),
            ("bf", torch.randn(5).bfloat16()),
            ("bf.t", torch.randn(2, 3).bfloat16().t()),
        ]
    )
    save("half.pth", half, expect=True)

    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    m(torch.randn(2, 3, 3, 3)).sum().backward()
    opt.step()
    save("timm.pth", {"epoch": 3, "arch": "tiny", "state_dict": sd, "optimizer": opt.state_dict(), "version": 2}, expect=True)
    save("lightning.pth", {"epoch": 1, "global_step": 10, "model": sd}, expect=True)

    save("views.pth", views(), expect=True)
    save("views_legacy.pth", views(), expect=True, legacy=True)

    save("param.pth", collections.OrderedDict(m.fc.named_parameters()), expect=True)

    torch.save({"x": Evil()}, "evil.pth")
    torch.save({"x": Evil()}, "evil_legacy.pth", _use_new_zipfile_serialization=False)
    torch.save(m, "model.pth")


def resnet18(d):
    import torchvision

    torch.manual_seed(3)
    m = torchvision.models.resnet18()
    m.eval()
    for mod in m.modules():  # statistics unlike the defaults, so that mixing them up shows
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.normal_()
            mod.running_var.uniform_(0.5, 2)
            mod.num_batches_tracked.fill_(7)
    sd = m.state_dict()
    torch.save(sd, os.path.join(d, "resnet18.pth"))
    torch.save(sd, os.path.join(d, "resnet18_legacy.pth"), _use_new_zipfile_serialization=False)
    write_expect(os.path.join(d, "expect_resnet18.safetensors"), sd)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--resnet18":
        resnet18(sys.argv[2])
    else:
        os.chdir(os.path.dirname(os.path.abspath(__file__)))
        fixtures()
