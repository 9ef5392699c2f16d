#!/usr/bin/python3
"""Writes imagenet_classes.txt: the 1000 ImageNet class names, one a line,
in label order, as torchvision lists them (torchvision/models/_meta.py),
spaces written as underscores so that a name is one word in fovea predict's
output (tiger_cat)."""
import importlib.util, pathlib, sys

spec = importlib.util.spec_from_file_location(
    "meta", "/usr/lib/python3/dist-packages/torchvision/models/_meta.py")
meta = importlib.util.module_from_spec(spec)
spec.loader.exec_module(meta)
names = meta._IMAGENET_CATEGORIES
assert len(names) == 1000, len(names)
out = pathlib.Path(sys.argv[0]).with_name("imagenet_classes.txt")
out.write_text("".join(n.replace(" ", "_") + "\n" for n in names))
