#!/usr/bin/env bash
# microflow's three TinyML models imported with `nn-import` and run as `#[int8]` networks on the emulated
# Cortex-M4F of `../../run-qemu.sh`, one image per model, measured as `../microflow/run.sh` measures microflow
# (instructions from SysTick under `-icount shift=0`, stack painted), each image's sections after. Every image
# also checks its outputs against TFLite's reference kernels (`tests/fixtures/tflite/microflow_expected.txt`) and
# fails otherwise. The models and samples come from the peers' directory: `$NN_PEERS` (default: `../shared/peers`
# beside the repository); without it this says so and exits with status 0.
set -euo pipefail
cd "$(dirname "$0")"
peers="${NN_PEERS:-$(cd ../../../../.. && pwd)/shared/peers}"
if [[ ! -d "$peers/microflow/models" ]]; then
    echo "microflow is not in $peers (set NN_PEERS); skipped"
    exit 0
fi
NN_PEERS="$peers" cargo build --release --target thumbv7em-none-eabihf
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for model in sine speech person; do
    elf="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/int8-$model"
    timeout 600 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none \
        -chardev "file,id=semihosting,path=$out" -semihosting-config enable=on,target=native,chardev=semihosting \
        -icount shift=0 -kernel "$elf" || { cat "$out"; echo "int8-$model failed" >&2; exit 1; }
    cat "$out"
    if command -v llvm-size >/dev/null; then size=llvm-size; else size=size; fi
    "$size" -A "$elf" | grep -E '^\.(vector_table|text|rodata|data|bss) '
done
