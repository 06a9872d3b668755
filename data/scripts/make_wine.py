"""Reproduces data/wine.csv and data/wine.npz: the UCI wine recognition data (178 wines, 13 chemical
measurements, 3 cultivars) exactly as the scikit-learn 1.9.1 wheel ships it at
sklearn/datasets/data/wine_data.csv, rewritten with a header of feature names.

- wine.csv: a header (`alcohol,malic_acid,...,proline,class`) and one row per wine, the measurements as the
  source file writes them and the class 0, 1 or 2 last.
- wine.npz: `np.savez_compressed` of `x` (float64, shape [178, 13]) and `y` (int64, shape [178]), the same
  rows in the same order.

Needs: pip and numpy. Usage: python3 data/scripts/make_wine.py [OUTPUT_DIR]   (default: data/)
"""

import glob
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

VERSION = "1.9.1"
MEMBER = "sklearn/datasets/data/wine_data.csv"
# load_wine's feature names, in column order.
FEATURES = [
    "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
    "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline",
]

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
with tempfile.TemporaryDirectory() as tmp:
    # The platform is pinned so every host fetches the same wheel; the data file is identical in all of them.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "-d", tmp, f"scikit-learn=={VERSION}"],
        check=True,
    )
    (wheel,) = glob.glob(tmp + "/scikit_learn-*.whl")
    source = zipfile.ZipFile(wheel).read(MEMBER).decode("ascii")

lines = source.strip().splitlines()
count, features, *classes = lines[0].split(",")
assert (int(count), int(features), classes) == (178, 13, ["class_0", "class_1", "class_2"]), lines[0]
rows = [line.split(",") for line in lines[1:]]
assert len(rows) == 178 and all(len(r) == 14 for r in rows)

csv = "\n".join([",".join(FEATURES + ["class"])] + [",".join(r) for r in rows]) + "\n"
x = np.array([[float(v) for v in r[:13]] for r in rows], dtype=np.float64)
y = np.array([int(r[13]) for r in rows], dtype=np.int64)
buffer = io.BytesIO()
np.savez_compressed(buffer, x=x, y=y)

for name, data in [("wine.csv", csv.encode("ascii")), ("wine.npz", buffer.getvalue())]:
    path = os.path.normpath(os.path.join(out, name))
    with open(path, "wb") as f:
        f.write(data)
    print("sha256 ", hashlib.sha256(data).hexdigest(), path)
print("class counts", np.bincount(y).tolist())
