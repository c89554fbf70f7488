#!/usr/bin/env python3
"""Writes a large IDX data set for the scatter benchmark (bench/scatter-frames.sh): the built-in
MNIST training subset pooled to 7x7 and repeated, with a little noise, to N images (default
2 000 000, so the 90/10 split leaves 200 000 test points for the latent views). Standard
library only; deterministic.

    bench/big_points.py OUT_DIR [N]
"""
import gzip
import os
import random
import struct
import sys

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
root = os.path.join(os.path.dirname(__file__), "..", "assets", "datasets")
img = gzip.open(os.path.join(root, "mnist-train-images-idx3-ubyte.gz")).read()
lbl = gzip.open(os.path.join(root, "mnist-train-labels-idx1-ubyte.gz")).read()
count = struct.unpack(">I", img[4:8])[0]
pix, labels = img[16:], lbl[8:]
small = bytearray(count * 49)
for i in range(count):
    base = i * 784
    for r in range(7):
        for c in range(7):
            s = 0
            for dr in range(4):
                row = base + (r * 4 + dr) * 28 + c * 4
                s += pix[row] + pix[row + 1] + pix[row + 2] + pix[row + 3]
            small[i * 49 + r * 7 + c] = s // 16
rng = random.Random(1)
images = bytearray(n * 49)
for j in range(n):
    i = j % count
    images[j * 49:(j + 1) * 49] = small[i * 49:(i + 1) * 49]
for k in range(0, len(images), 7):
    images[k] = min(255, max(0, images[k] + rng.randint(-20, 20)))
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "images.idx"), "wb") as f:
    f.write(struct.pack(">IIII", 0x803, n, 7, 7) + bytes(images))
with open(os.path.join(out, "labels.idx"), "wb") as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(labels[j % count] for j in range(n)))
print(f"wrote {n} 7x7 images to {out}")
