#!/usr/bin/env bash
# Instructions per letter, counted by valgrind (callgrind), for one or more letterdrive binaries.
# A count does not move with the machine's load the way seconds do, so two builds can be compared
# to a fraction of a percent on a shared machine where timings vary by a tenth from run to run.
# It counts user-space instructions only (not the kernel's copy into the page cache, not cache
# misses), so it guides work on the CPU cost of a letter; bench/run.sh remains the measure.
#
#   bench/instructions.sh                       # the release build of this checkout
#   bench/instructions.sh old-binary new-binary # side by side
#
# Each binary renders the first 1,000 and the first 4,000 rows of the 100,000-row benchmark
# campaign into an mbox on one render thread; the difference, divided by 3,000, leaves out
# start-up and the end of the run. Knobs: WORK and SHARED as for run.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-/tmp/letterdrive-bench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
command -v valgrind >/dev/null || { echo "error: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

if [ $# -eq 0 ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin letterdrive)
    set -- "$ROOT/target/release/letterdrive"
fi

dir="$WORK/campaign-100000"
if [ ! -f "$dir/recipients/bench.csv" ]; then
    rm -rf "$dir"; mkdir -p "$WORK"; cp -r "$ROOT/bench/campaign" "$dir"; mkdir -p "$dir/recipients"
    python3 "$SHARED/gen_recipients.py" 100000 --seed 20240601 > "$dir/recipients/bench.csv"
fi

count() { # BIN N -> instructions
    local out="$WORK/callgrind.out"
    rm -rf "$WORK/ir-out"
    LETTERDRIVE_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out" "$1" \
        --campaign "$dir" render -g bench -f mbox -o "$WORK/ir-out" --limit "$2" \
        --signer-name "Ada Volunteer" --signer-email ada@example.org --date 2026-11-27 \
        > /dev/null 2> "$WORK/callgrind.err" || { cat "$WORK/callgrind.err" >&2; exit 1; }
    awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

for bin in "$@"; do
    small=$(count "$bin" 1000)
    large=$(count "$bin" 4000)
    echo "$bin: $(( (large - small) / 3000 )) instructions a letter"
done
rm -rf "$WORK/ir-out" "$WORK/callgrind.out" "$WORK/callgrind.err"
