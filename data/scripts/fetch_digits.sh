#!/bin/sh
# Reproduces data/digits.csv.gz: the UCI optical-digits test set (1,797 8x8 images) exactly as the
# scikit-learn 1.9.1 wheel ships it at sklearn/datasets/data/digits.csv.gz. The file is copied unchanged.
#
# Needs: pip, python3. Usage: sh data/scripts/fetch_digits.sh [OUTPUT]   (default: data/digits.csv.gz)
set -eu

VERSION=1.9.1
MEMBER=sklearn/datasets/data/digits.csv.gz
EXPECTED=09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../digits.csv.gz"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The platform is pinned so every host fetches the same wheel; the data file is identical in all of them.
pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 \
    -d "$tmp" "scikit-learn==$VERSION"

python3 - "$tmp" "$MEMBER" "$out" <<'PY'
import glob, hashlib, os, sys, zipfile
tmp, member, out = sys.argv[1:]
(wheel,) = glob.glob(tmp + "/scikit_learn-*.whl")
data = zipfile.ZipFile(wheel).read(member)
with open(out, "wb") as f:
    f.write(data)
print("wheel  ", wheel.rsplit("/", 1)[-1])
print("sha256 ", hashlib.sha256(data).hexdigest(), os.path.normpath(out))
PY

actual=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$out")
if [ "$actual" != "$EXPECTED" ]; then
    echo "sha256 mismatch: expected $EXPECTED" >&2
    exit 1
fi
echo "ok: matches the recorded sha256"
