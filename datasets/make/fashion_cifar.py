#!/usr/bin/python3
"""Writes Fashion-MNIST (Debian's dataset-fashion-mnist) in CIFAR-10's
binary format, as its distribution lays it out, for fovea's CIFAR
evidence when no CIFAR-10 copy is at hand:

    datasets/make/fashion_cifar.py OUT [--train N] [--test N]

OUT/cifar-10-batches-bin/ gets data_batch_1.bin ... data_batch_5.bin,
test_batch.bin and batches.meta.txt (the ten Fashion-MNIST class names),
and OUT/cifar-10-binary.tar.gz the same folder as an archive. Each
28x28 grey image is padded to 32x32 with 2 black pixels a side and
written in all three colour planes: records of a label byte and
3x1024 bytes, as CIFAR-10's are. It is CIFAR's format, not CIFAR's
images: accuracy on it says nothing about CIFAR-10."""
import argparse, gzip, os, tarfile
import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"
NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]

def idx(name, offset):
    with gzip.open(os.path.join(SRC, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)

def records(images, labels):
    img = np.zeros((len(labels), 32, 32), np.uint8)
    img[:, 2:30, 2:30] = images.reshape(-1, 28, 28)
    planes = np.repeat(img.reshape(-1, 1, 1024), 3, axis=1).reshape(-1, 3072)
    return np.concatenate([labels.reshape(-1, 1), planes], axis=1).tobytes()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=10000)
    a = ap.parse_args()
    tr_x, tr_y = idx("train-images-idx3-ubyte.gz", 16), idx("train-labels-idx1-ubyte.gz", 8)
    te_x, te_y = idx("t10k-images-idx3-ubyte.gz", 16), idx("t10k-labels-idx1-ubyte.gz", 8)
    ntr, nte = min(a.train, len(tr_y)), min(a.test, len(te_y))
    d = os.path.join(a.out, "cifar-10-batches-bin")
    os.makedirs(d, exist_ok=True)
    per = -(-ntr // 5)
    for b in range(5):
        lo, hi = b * per, min((b + 1) * per, ntr)
        with open(os.path.join(d, f"data_batch_{b + 1}.bin"), "wb") as f:
            f.write(records(tr_x[lo * 784:hi * 784], tr_y[lo:hi]))
    with open(os.path.join(d, "test_batch.bin"), "wb") as f:
        f.write(records(te_x[:nte * 784], te_y[:nte]))
    with open(os.path.join(d, "batches.meta.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n\n")
    with tarfile.open(os.path.join(a.out, "cifar-10-binary.tar.gz"), "w:gz") as t:
        t.add(d, arcname="cifar-10-batches-bin")
    print(f"wrote {ntr} training and {nte} test images in CIFAR-10's format into {d} and {a.out}/cifar-10-binary.tar.gz")

main()
