#!/usr/bin/env bash
# The generated networks beside RTNeural: PASSES passes (default 5) of the `rtneural` criterion benchmark, each
# for the default x86-64 target and for `-C target-cpu=native` (RTNeural then built with -march=native; TARGETS
# chooses, default "default native"), on one pinned core (CORE, default 1), the targets alternating; then a table of the minimum over passes of each
# function's median, RTNeural's better backend, and the ratio RTNeural / generated (above 1: generated faster).
#
#   RTNEURAL_DIR=/path/to/RTNeural XSIMD_DIR=/path/to/xsimd benches/peers/rtneural/run.sh
#
# Without RTNEURAL_DIR it says so and exits successfully (the benchmark would time the generated side alone).
# Builds go to $CARGO_TARGET_DIR (default benches/peers/rtneural/target) and .../native; the per-pass logs and
# the table to $LOGS (default that target folder's rtneural-runs).
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${RTNEURAL_DIR:-}" ]; then
    echo "rtneural: skipped (set RTNEURAL_DIR to an RTNeural source tree, XSIMD_DIR to xsimd 10 for its xsimd backend)"
    exit 0
fi
PASSES="${PASSES:-5}"
TARGETS="${TARGETS:-default native}"
CORE="${CORE:-1}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
LOGS="${LOGS:-$target/rtneural-runs}"
mkdir -p "$LOGS"
rm -f "$LOGS"/pass*.log

build() { # $1 = default|native
    if [ "$1" = native ]; then
        RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR="$target/native" cargo bench --bench rtneural --no-run
    else
        RUSTFLAGS="" CARGO_TARGET_DIR="$target" cargo bench --bench rtneural --no-run
    fi
}
run() { # $1 = default|native, $2 = pass
    if [ "$1" = native ]; then
        RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR="$target/native" taskset -c "$CORE" \
            cargo bench --bench rtneural -- --noplot > "$LOGS/pass$2-$1.log" 2>&1
    else
        RUSTFLAGS="" CARGO_TARGET_DIR="$target" taskset -c "$CORE" \
            cargo bench --bench rtneural -- --noplot > "$LOGS/pass$2-$1.log" 2>&1
    fi
}
for t in $TARGETS; do build "$t"; done
for p in $(seq 1 "$PASSES"); do
    if [ $((p % 2)) = 1 ]; then order="$TARGETS"; else order=$(echo "$TARGETS" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}'); fi
    for t in $order; do
        echo "$(date +%T) pass $p $t"
        run "$t" "$p"
    done
done

# Every `time:` line's median in ns, per target, benchmark and function; then the minimum over passes.
for f in "$LOGS"/pass*.log; do
    t=$(basename "$f" .log); t=${t#*-}
    awk -v t="$t" '
        /^[^ \t]+$/ { name = $1 }
        /^[^ \t]+ +time:/ { name = $1 }
        /time:/ { for (i = 1; i <= NF; i++) if ($i == "time:") {
                      v = $(i + 3); u = $(i + 4)
                      if (u == "ps") v /= 1000; else if (u == "µs" || u == "us") v *= 1000; else if (u == "ms") v *= 1e6
                      print t, name, v; break } }' "$f"
done | awk '
    { key = $1 " " $2; if (!(key in best) || $3 < best[key]) best[key] = $3; if (!(key in n)) n[key] = 0; n[key]++ }
    END {
        split("forward/2-4-1/batch1 forward/16-32-32-4/batch1 forward/64-128-10/batch1 forward/784-128-10/batch1 forward/256-256-256/batch1 lstm_step/h8 lstm_step/h16 lstm_step/h32 gru_step/h8 gru_step/h16 gru_step/h32", cases, " ")
        printf "| case | generated, default (ns) | RTNeural, default (ns) | ratio | generated, native (ns) | RTNeural, native (ns) | ratio |\n"
        printf "|---|---:|---:|---:|---:|---:|---:|\n"
        for (c = 1; c <= 11; c++) {
            row = "| " cases[c]
            split("default native", ts, " ")
            for (k = 1; k <= 2; k++) {
                g = best[ts[k] " " cases[c] "/generated"]
                e = best[ts[k] " " cases[c] "/rtneural_eigen"]; x = best[ts[k] " " cases[c] "/rtneural_xsimd"]
                r = e; be = "eigen"
                if (x != "" && (r == "" || x < r)) { r = x; be = "xsimd" }
                if (g == "" || r == "") row = row sprintf(" | %s | %s | - ", g, r)
                else row = row sprintf(" | %.1f | %.1f (%s) | %.2f", g, r, be, r / g)
            }
            print row " |"
        }
    }' | tee "$LOGS/table.md"
echo "passes: $PASSES on core $CORE; logs and table in $LOGS"
