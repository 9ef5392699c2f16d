#!/usr/bin/python3
"""Builds an image folder of real photographs for fovea's loader benchmark
and its README evidence: the colour photographs Debian's python3-skimage
and python3-sklearn ship, one class each, cut into randomly cropped,
scaled and re-encoded files of mixed sizes and colour models.

    datasets/make/photos.py OUT [--per-class N] [--seed S]

OUT gets train/CLASS/*.jpg and val/CLASS/*.jpg (one in ten files), so
`fovea train --data OUT` finds the splits. Most files are JPEGs of
quality 60-95, some PNGs, a few grey, paletted or with alpha, so that the
loader meets what real folders hold. Crops cover 10-100% of the
photograph's area at aspect ratios 3/4-4/3 and are scaled so their
shorter side is 160-480 pixels."""
import argparse, os, random
import numpy as np
from PIL import Image

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
SKLEARN = "/usr/lib/python3/dist-packages/sklearn/datasets/images"
PHOTOS = {
    "astronaut": f"{SKIMAGE}/astronaut.png",
    "cat": f"{SKIMAGE}/chelsea.png",
    "coffee": f"{SKIMAGE}/coffee.png",
    "motorcycle": f"{SKIMAGE}/motorcycle_left.png",
    "rocket": f"{SKIMAGE}/rocket.jpg",
    "retina": f"{SKIMAGE}/retina.jpg",
    "galaxies": f"{SKIMAGE}/hubble_deep_field.jpg",
    "tissue": f"{SKIMAGE}/ihc.png",
    "china": f"{SKLEARN}/china.jpg",
    "flower": f"{SKLEARN}/flower.jpg",
}

def crop(img, rng):
    w, h = img.size
    for _ in range(20):
        area = w * h * rng.uniform(0.1, 1.0)
        ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        cw, ch = int(round((area * ratio) ** 0.5)), int(round((area / ratio) ** 0.5))
        if cw <= w and ch <= h:
            x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return img.crop((x, y, x + cw, y + ch))
    return img

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n = 0
    for name, path in sorted(PHOTOS.items()):
        src = Image.open(path).convert("RGB")
        for i in range(a.per_class):
            split = "val" if i % 10 == 0 else "train"
            d = os.path.join(a.out, split, name)
            os.makedirs(d, exist_ok=True)
            im = crop(src, rng)
            short = rng.randint(160, 480)
            s = short / min(im.size)
            im = im.resize((max(1, round(im.size[0] * s)), max(1, round(im.size[1] * s))), Image.BILINEAR)
            kind = rng.random()
            if kind < 0.8:
                im.save(os.path.join(d, f"{i:04d}.jpg"), quality=rng.randint(60, 95))
            elif kind < 0.9:
                im.save(os.path.join(d, f"{i:04d}.png"))
            elif kind < 0.94:
                im.convert("L").save(os.path.join(d, f"{i:04d}.png"))
            elif kind < 0.97:
                im.convert("P", palette=Image.ADAPTIVE).save(os.path.join(d, f"{i:04d}.png"))
            else:
                im.putalpha(255)
                im.save(os.path.join(d, f"{i:04d}.png"))
            n += 1
    print(f"wrote {n} images of {len(PHOTOS)} classes into {a.out}/train and {a.out}/val")

main()
