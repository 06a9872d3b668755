#!/usr/bin/env bash
# Fuzzes the safetensors loader for a short while: every cargo-fuzz target in fuzz/, FUZZ_SECONDS each (20 by
# default), starting from the seed files in fuzz/seeds and the corpus of earlier runs. Needs a nightly
# toolchain (cargo-fuzz builds with a sanitizer); without one it says so and succeeds.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"

if ! nightly=$(cargo +nightly --version 2>/dev/null); then
    echo "skipping fuzzing: no nightly toolchain (cargo +nightly --version failed)"
    exit 0
fi
echo "== fuzzing with ${nightly}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo +nightly install cargo-fuzz --locked
fi

cd fuzz
cargo +nightly fuzz build
targets=$(cargo +nightly fuzz list)
for target in $targets; do
    echo "== fuzzing ${target} for ${seconds} s"
    mkdir -p "corpus/${target}" artifacts
    log="artifacts/${target}.log"
    if cargo +nightly fuzz run "$target" "corpus/${target}" seeds -- \
        -max_total_time="$seconds" -dict=load.dict -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" || true
    else
        echo "fuzz target ${target} failed (full log: fuzz/${log}); the reproducer is in fuzz/artifacts/${target}/:"
        tail -n 60 "$log"
        exit 1
    fi
done
