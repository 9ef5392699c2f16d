#!/usr/bin/python3
"""Make python.safetensors, a file laid out as Python's safetensors writes
one, for safetensors_test.go (TestPythonFile).

The safetensors package is not needed: the file is written by hand with
struct and json, as the format's specification says. An 8-byte
little-endian header length N, then N bytes of JSON header (compact
separators, "__metadata__" first, padded with spaces to a multiple of 8),
then the data. Like the reference writer, the data is ordered by dtype
alignment (largest first), then by name. The tensors:

  conv.weight   F32  [2, 1, 1, 2]  0.5 -1.25 3 -0.0
  fc.bias       F16  [3]           1 -2.5 65504
  fc.tiny       F16  [2]           2^-24 (the smallest subnormal), -2^-14
  fc.weight     BF16 [2, 2]        1 -2 0.15625 1e30 (bf16 rounds 1e30 to 1.0009e30)
  bn.var        F64  [2]           0.1 1e-40 (underflows to a float32 subnormal)
  bn.num_batches_tracked  I64 []   7
  empty         F32  [0, 3]

Run with /usr/bin/python3; it needs only the standard library.
"""
import json
import os
import struct

tensors = {
    "conv.weight": ("F32", [2, 1, 1, 2], struct.pack("<4f", 0.5, -1.25, 3.0, -0.0)),
    "fc.bias": ("F16", [3], struct.pack("<3e", 1.0, -2.5, 65504.0)),
    "fc.tiny": ("F16", [2], struct.pack("<2e", 2.0 ** -24, -(2.0 ** -14))),
    # bfloat16 is the top half of a float32 (truncated here; these are exact or nearly).
    "fc.weight": ("BF16", [2, 2], b"".join(struct.pack("<f", v)[2:] for v in (1.0, -2.0, 0.15625, 1e30))),
    "bn.var": ("F64", [2], struct.pack("<2d", 0.1, 1e-40)),
    "bn.num_batches_tracked": ("I64", [], struct.pack("<q", 7)),
    "empty": ("F32", [0, 3], b""),
}
ALIGN = {"F64": 8, "I64": 8, "F32": 4, "F16": 2, "BF16": 2}

order = sorted(tensors, key=lambda k: (-ALIGN[tensors[k][0]], k))
header = {"__metadata__": {"format": "pt", "note": "made by gen_safetensors.py"}}
data = b""
for name in order:
    dtype, shape, raw = tensors[name]
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
out = struct.pack("<Q", len(h)) + h + data
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "python.safetensors"), "wb") as f:
    f.write(out)
