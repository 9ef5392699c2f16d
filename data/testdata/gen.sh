#!/bin/sh
# Makes the Fashion-MNIST excerpt fashion16-*: the first 16 training images
# and labels of Fashion-MNIST (MIT licence, Zalando Research), with the
# headers' counts set to 16, gzipped by Python rather than by Go so the
# readers are tested against a writer other than their own test's.
# Needs the Debian package dataset-fashion-mnist. Prints the byte sum of
# the first image, which idx_test.go checks.
set -eu
src=/usr/share/datasets/fashion-mnist
cd "$(dirname "$0")"
python3 - "$src" <<'PY'
import gzip, struct, sys
src = sys.argv[1]
n = 16
with gzip.open(src + "/train-images-idx3-ubyte.gz") as f:
    magic, _, rows, cols = struct.unpack(">IIII", f.read(16))
    pix = f.read(n * rows * cols)
with gzip.open(src + "/train-labels-idx1-ubyte.gz") as f:
    lmagic, _ = struct.unpack(">II", f.read(8))
    lab = f.read(n)
with gzip.GzipFile("fashion16-images-idx3-ubyte.gz", "wb", mtime=0) as f:
    f.write(struct.pack(">IIII", magic, n, rows, cols) + pix)
with gzip.GzipFile("fashion16-labels-idx1-ubyte.gz", "wb", mtime=0) as f:
    f.write(struct.pack(">II", lmagic, n) + lab)
print(sum(pix[: rows * cols]))
PY
