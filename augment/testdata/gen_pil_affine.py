#!/usr/bin/python3
"""Make pil_affine.json: rotations and shears resampled by Pillow.

An independent implementation for augment's Affine (issue 5): Pillow's
Image.transform(size, Image.AFFINE, data, resample=Image.BILINEAR,
fillcolor=...) applied to two small deterministic images. Run with
Debian's Pillow (apt-get install -y python3-pil), from this directory:

    /usr/bin/python3 gen_pil_affine.py

Conventions. Pillow's AFFINE data (a, b, c, d, e, f) maps an OUTPUT point
(x, y) to the INPUT point (a x + b y + c, d x + e y + f), both in
pixel-corner coordinates: pixel (i, j) covers [i, i+1) x [j, j+1) and its
centre is (i + 0.5, j + 0.5); Pillow evaluates the map at output centres.

Each case is described geometrically, the way fovea's AffineParams
documents it, about the image centre (w/2, h/2) with y pointing down:
a point p (from the centre) moves forward to T + R Sy Sx s p, where
  R  = [cos t, sin t; -sin t, cos t]  turns counter-clockwise as seen,
  Sx = [1, tan(sx); 0, 1]             shears along x: (x + tan(sx) y, y),
  Sy = [1, 0; tan(sy), 1]             shears along y: (x, y + tan(sy) x).
The script inverts that forward map into Pillow's output-to-input data
itself. The rotation convention is checked against Pillow's own
Image.rotate (counter-clockwise, about the centre): for every pure
rotation the script asserts that transform() with its data gives what
rotate() gives.

Images: "rgb", 17x13 RGB uint8 (odd sizes: the centre is a pixel
centre) with smooth gradients and sharp features (a bright square, a
dot, a line); "grey", 16x11 mode F float32 (even width: the centre is a
pixel corner) with a smooth pattern and a sharp square, which Pillow
resamples in floating point without uint8 rounding.

Pillow's 8-bit bilinear result is truncated, not rounded: its output is
floor(v) of the exact interpolated value v (or v - 1 where v is an
integer up to rounding error).
"""

import json
import math
import os

import PIL
from PIL import Image


def rgb_image():
    w, h = 17, 13
    px = []
    for y in range(h):
        for x in range(w):
            r = round(255 * x / (w - 1))
            g = round(40 + 180 * y / (h - 1))
            b = round(110 + 60 * math.cos(0.5 * x + 0.3 * y))
            if 4 <= x <= 6 and 3 <= y <= 5:  # a bright square
                r, g, b = 250, 250, 250
            if (x, y) == (12, 8):  # a dot
                r, g, b = 0, 0, 255
            if x == 9:  # a vertical line
                b = 5
            px.append((r, g, b))
    im = Image.new("RGB", (w, h))
    im.putdata(px)
    return im


def grey_image():
    w, h = 16, 11
    px = []
    for y in range(h):
        for x in range(w):
            v = 0.5 + 0.3 * math.sin(0.4 * x) * math.cos(0.5 * y) + 0.01 * y
            if 9 <= x <= 11 and 2 <= y <= 4:
                v = 1.0
            if (x, y) == (3, 7):
                v = -0.25
            px.append(v)
    im = Image.new("F", (w, h))
    im.putdata(px)
    return im


def mul(p, q):
    return [
        [p[0][0] * q[0][0] + p[0][1] * q[1][0], p[0][0] * q[0][1] + p[0][1] * q[1][1]],
        [p[1][0] * q[0][0] + p[1][1] * q[1][0], p[1][0] * q[0][1] + p[1][1] * q[1][1]],
    ]


def pil_data(w, h, angle=0.0, shear_x=0.0, shear_y=0.0, scale=1.0, tx=0.0, ty=0.0):
    """Pillow's AFFINE data for the forward map T + R Sy Sx s p about the centre."""
    t = math.radians(angle)
    # Rounded to 15 places as Image.rotate rounds them, which makes
    # quarter turns exact.
    cos, sin = round(math.cos(t), 15), round(math.sin(t), 15)
    R = [[cos, sin], [-sin, cos]]
    Sx = [[1.0, math.tan(math.radians(shear_x))], [0.0, 1.0]]
    Sy = [[1.0, 0.0], [math.tan(math.radians(shear_y)), 1.0]]
    F = mul(R, mul(Sy, Sx))
    F = [[scale * v for v in row] for row in F]
    det = F[0][0] * F[1][1] - F[0][1] * F[1][0]
    # Inverse: input = F^-1 (output - centre - T) + centre.
    a, b = F[1][1] / det, -F[0][1] / det
    d, e = -F[1][0] / det, F[0][0] / det
    cx, cy = w / 2, h / 2
    ux, uy = -cx - tx, -cy - ty
    c = a * ux + b * uy + cx
    f = d * ux + e * uy + cy
    return [a, b, c, d, e, f]


CASES = [
    dict(name="rotate 0"),
    dict(name="rotate 15", angle=15),
    dict(name="rotate -30", angle=-30),
    dict(name="rotate 90", angle=90),
    dict(name="rotate 180", angle=180),
    dict(name="shear x 20", shear_x=20),
    dict(name="shear x -20", shear_x=-20),
    dict(name="shear y 20", shear_y=20),
    dict(name="shear y -20", shear_y=-20),
    dict(name="composite", angle=10, shear_x=5, shear_y=-8, scale=1.1, tx=1.5, ty=-0.75),
]

KEYS = ("angle", "shear_x", "shear_y", "scale", "tx", "ty")


def main():
    images = [
        ("rgb", rgb_image(), (51, 51, 51), 255),  # fill 0.2 of 255
        ("grey", grey_image(), 0.2, 1),
    ]
    out = {
        "pillow": PIL.__version__,
        "script": "gen_pil_affine.py",
        "images": [],
        "cases": [],
    }
    for name, im, fill, scale in images:
        w, h = im.size
        bands = len(im.getbands())
        flat = lambda img: [v for p in img.getdata() for v in (p if bands > 1 else (p,))]
        out["images"].append(dict(
            name=name, mode=im.mode, width=w, height=h, channels=bands,
            scale=scale, fill=fill if bands == 1 else fill[0], pixels=flat(im)))
        for case in CASES:
            geo = {k: float(case.get(k, 1.0 if k == "scale" else 0.0)) for k in KEYS}
            data = pil_data(w, h, **geo)
            res = im.transform((w, h), Image.AFFINE, data, resample=Image.BILINEAR, fillcolor=fill)
            if set(case) == {"name"} | ({"angle"} if "angle" in case else set()):
                # A pure rotation: Pillow's own rotate must agree.
                rot = im.rotate(geo["angle"], resample=Image.BILINEAR, fillcolor=fill)
                worst = max(abs(u - v) for u, v in zip(flat(res), flat(rot)))
                # Pillow truncates 8-bit bilinear results (it does not
                # round), so a flat region whose exact value is an
                # integer k comes out k or k-1 depending on the last bit
                # of the coefficients; rotate() takes the angle modulo
                # 360, whose sine differs from ours in that last bit.
                assert worst <= (1e-6 if bands == 1 else 1), (name, case, worst)
            out["cases"].append(dict(image=name, name=case["name"], **geo, data=data, output=flat(res)))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pil_affine.json")
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
        fh.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
