#!/usr/bin/env bash
# Runs the firmware on an emulated Cortex-M4F and fails unless every output equals the host's.
#
# QEMU's `netduinoplus2` (an STM32F405: 1 MiB of flash at 0x08000000, 128 KiB of RAM at 0x20000000, the memory
# map of `link.ld`) boots `src/bin/qemu.rs`, which prints through semihosting and ends the emulation with status 0
# only when its predictions equal the ones in `src/expected.rs` (written by the host-side test
# `tests/tests/firmware.rs` from the same source and weights), its outputs are within 1e-4 of the host's and its
# on-device training lowered the loss as on the host.
#
# Instructions are counted deterministically: with `-icount shift=0` QEMU's virtual clock advances one
# nanosecond per executed instruction, and the firmware reads SysTick (which counts that clock at the board's
# 168 MHz) around each call, calibrated against a loop of a known number of instructions. The counts are
# instructions, not cycles: QEMU does not model the pipeline, wait states of the flash, or the cost of a load.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v qemu-system-arm >/dev/null; then
    echo "qemu-system-arm is missing (Debian: apt-get install qemu-system-arm)" >&2
    exit 1
fi
cargo build --release --target thumbv7em-none-eabihf --bin qemu
elf="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/qemu"
[[ "$elf" = /* ]] || elf="$PWD/$elf"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
timeout 300 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none \
    -chardev "file,id=semihosting,path=$out" -semihosting-config enable=on,target=native,chardev=semihosting \
    -icount shift=0 -kernel "$elf" || status=$?
cat "$out"
if [[ $status -ne 0 ]]; then
    echo "the firmware failed in the emulator (status $status)" >&2
    exit 1
fi
tail -n 1 "$out" | grep -Eq '^([0-9]+) of \1 predictions equal the host' || {
    echo "the firmware's last line does not report all predictions equal" >&2
    exit 1
}
