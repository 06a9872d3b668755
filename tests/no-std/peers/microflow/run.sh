#!/usr/bin/env bash
# microflow's models on the emulated Cortex-M4F of `../../run-qemu.sh`, measured the same way (instructions
# from SysTick under `-icount shift=0`, stack painted): sine and speech in one image (`microflow-qemu`), then
# sine, speech and person detection each in an image of its own, with its sections (as `../int8/run.sh` measures
# ours). The models and samples are copied from the peers' directory: `$NN_PEERS` (default: `../shared/peers`
# beside the repository); without it this says so and exits with status 0. Person detection needs more stack
# than the board's 128 KiB of RAM: the emulated core locks up, which is reported, not a failure of the script.
set -euo pipefail
cd "$(dirname "$0")"
peers="${NN_PEERS:-$(cd ../../../../.. && pwd)/shared/peers}"
if [[ ! -d "$peers/microflow/models" ]]; then
    echo "microflow is not in $peers (set NN_PEERS); skipped"
    exit 0
fi
mkdir -p models features
cp "$peers/microflow/models/sine.tflite" "$peers/microflow/models/speech.tflite" \
    "$peers/microflow/models/person_detect.tflite" models/
cp "$peers/microflow/samples/features/speech.rs" "$peers/microflow/samples/features/person_detect.rs" features/
cargo build --release --target thumbv7em-none-eabihf
elf="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/microflow-qemu"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 300 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none \
    -chardev "file,id=semihosting,path=$out" -semihosting-config enable=on,target=native,chardev=semihosting \
    -icount shift=0 -kernel "$elf"
cat "$out"
if command -v llvm-size >/dev/null; then
    llvm-size -A "$elf" | grep -E '^\.(vector_table|text|rodata|data|bss) '
fi
for model in sine speech person; do
    elf="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/microflow-$model"
    if timeout 600 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none \
        -chardev "file,id=semihosting,path=$out" -semihosting-config enable=on,target=native,chardev=semihosting \
        -icount shift=0 -kernel "$elf" 2>/dev/null; then
        cat "$out"
    else
        echo "microflow-$model: the emulated core stopped (status $?)"
    fi
    if command -v llvm-size >/dev/null; then size=llvm-size; else size=size; fi
    "$size" -A "$elf" | grep -E '^\.(vector_table|text|rodata|data|bss) '
done
