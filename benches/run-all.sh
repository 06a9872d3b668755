#!/usr/bin/env bash
# Runs every benchmark of the suite for one target and prints one line per measurement: `group/function median`.
#
#   benches/run-all.sh default   # the default x86-64 target (no flags)
#   benches/run-all.sh native    # RUSTFLAGS="-C target-cpu=native", in target/native
#
# In-repo benches (nn-benches: dense, train, recurrent, conv) first, then the peer package (benches/peers: dfdx
# and candle, then tract on the convolution cases), whose first build downloads and compiles the three libraries,
# then ONNX Runtime on the convolution cases (benches/peers/onnxruntime_conv.py, skipped without
# onnx/onnxruntime), then RTNeural beside the generated networks on the batch-1 MLPs and recurrent steps, with the
# ratio per case (benches/peers/rtneural/run.sh, one pass for this target; skipped without RTNEURAL_DIR, see there;
# RTNEURAL_PASSES sets the passes).
# Criterion's full reports land in target/criterion (target/native/criterion) and benches/peers/target/...
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-default}" in
    default) flags=""; dir="target"; peer_dir="benches/peers/target" ;;
    native) flags="-C target-cpu=native"; dir="target/native"; peer_dir="benches/peers/target/native" ;;
    *) echo "usage: $0 default|native" >&2; exit 2 ;;
esac

# The first `time:` line of each benchmark holds its estimate [low median high].
medians() {
    awk '/^[^ \t]+$/ { name = $1; seen = 0 }
         /^[^ \t]+ +time:/ { name = $1; seen = 0 }
         /time:/ && !seen { for (i = 1; i <= NF; i++) if ($i == "time:") { print name, $(i + 3), $(i + 4); seen = 1; break } }'
}

for bench in dense train recurrent conv; do
    RUSTFLAGS="$flags" cargo bench -p nn-benches --bench "$bench" --target-dir "$dir" -- --noplot 2>&1 | medians
done
(
    cd benches/peers
    RAYON_NUM_THREADS=1 RUSTFLAGS="$flags" cargo bench --bench peers --target-dir "../../$peer_dir" -- --noplot 2>&1 | medians
    RUSTFLAGS="$flags" cargo bench --bench tract_conv --target-dir "../../$peer_dir" -- --noplot 2>&1 | medians
)

# ONNX Runtime on the convolution cases (Python; ORT_PYTHON names an interpreter with onnx and onnxruntime).
python="${ORT_PYTHON:-python3}"
if "$python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
    "$python" benches/peers/onnxruntime_conv.py
else
    echo "onnxruntime: skipped ($python cannot import onnx, onnxruntime and numpy; set ORT_PYTHON to an interpreter that can)"
fi

# RTNeural (C++, built from RTNEURAL_DIR with a C++ compiler) on the batch-1 MLPs and recurrent steps: our time,
# RTNeural's better backend and the ratio per case.
TARGETS="${1:-default}" PASSES="${RTNEURAL_PASSES:-1}" benches/peers/rtneural/run.sh
