#!/usr/bin/env bash
# Alternating runs of two or more letterdrive builds rendering the 100,000-letter benchmark mbox,
# each round also timing the floor (the same bytes written to one file), so every build meets the
# same machine. Prints, for the run with the median wall time of each, its user and system CPU,
# peak RSS and the CPU the hypervisor took from the machine meanwhile, and the floor's median. On
# a shared machine whose speed moves by a fifth within minutes, this is how two builds are
# compared; bench/run.sh gives the figures against the floor and mailmerge. Rounds alternate the
# order of the builds, and each build after the first is also given as the median of its
# round-by-round ratio to the first.
#
#   bench/ab.sh old-binary new-binary            # 9 rounds
#   ROUNDS=15 N=10000 bench/ab.sh a b c
#
# Knobs: ROUNDS (9), N (100000), WORK and SHARED as for run.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Built in this checkout's own target directory: one shared with other checkouts holds their
# builds under the same names, and cargo can take theirs as up to date for this one.
export CARGO_TARGET_DIR="$ROOT/target"
WORK="${WORK:-/tmp/letterdrive-bench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
ROUNDS="${ROUNDS:-9}"
N="${N:-100000}"
[ $# -ge 1 ] || { echo "usage: bench/ab.sh BINARY..." >&2; exit 2; }

(cd "$ROOT" && cargo build --release --quiet --example fsfloor)
mkdir -p "$WORK"
cp "$CARGO_TARGET_DIR/release/examples/fsfloor" "$WORK/fsfloor"
FLOOR="$WORK/fsfloor"
dir="$WORK/campaign-$N"
if [ ! -f "$dir/recipients/bench.csv" ]; then
    rm -rf "$dir"; mkdir -p "$WORK"; cp -r "$ROOT/bench/campaign" "$dir"; mkdir -p "$dir/recipients"
    python3 "$SHARED/gen_recipients.py" "$N" --seed 20240601 > "$dir/recipients/bench.csv"
fi
SIGNER=(--signer-name "Ada Volunteer" --signer-email ada@example.org --signer-city Lyon
        --signer-country France --date 2026-11-27)
# render records each letter it writes beside the journal, in the data directory: here, so that
# runs neither fill the real one nor find each other's records (removed with the output).
export XDG_DATA_HOME="$WORK/data"

# CPU time the hypervisor gave to other guests, in clock ticks (/proc/stat "steal"): a run that
# lost much of it to a busy host is slow for reasons that are not the build's.
steal_ticks() { awk '/^cpu /{print $9; exit}' /proc/stat 2>/dev/null || echo 0; }
TICK=$(getconf CLK_TCK)

results="$WORK/ab"; rm -rf "$results"; mkdir -p "$results"
builds=("$@")
for round in $(seq "$ROUNDS"); do
    # Every other round in the opposite order, so that no build always runs first.
    order=$(seq 0 $(($# - 1))); [ $((round % 2)) -eq 0 ] && order=$(seq $(($# - 1)) -1 0)
    for i in $order; do
        rm -rf "$WORK/ab-out" "$XDG_DATA_HOME"; sync
        s0=$(steal_ticks)
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/ab-time" "${builds[$i]}" --campaign "$dir" render \
            -g bench -f mbox -o "$WORK/ab-out" "${SIGNER[@]}" > /dev/null
        echo "$(cat "$WORK/ab-time") $(( $(steal_ticks) - s0 ))" >> "$results/$i"
    done
    bytes=$(du -sb --apparent-size "$WORK/ab-out" | cut -f1)
    rm -rf "$WORK/ab-out" "$XDG_DATA_HOME"; sync
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/ab-time" "$FLOOR" one "$WORK/ab-floor" "$N" $((bytes / N))
    cat "$WORK/ab-time" >> "$results/floor"
    rm -f "$WORK/ab-floor"
done

# The run with the median wall time, as "wall user sys rss".
median_run() { sort -g "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
floor=$(median_run "$results/floor" | cut -d' ' -f1)
i=0
for bin in "$@"; do
    read -r wall user sys rss stolen <<< "$(median_run "$results/$i")"
    printf '%s: %.2f s (%.2fx the floor), user %.2f s, system %.2f s, peak RSS %.1f MiB, CPU stolen %.2f s\n' \
        "$bin" "$wall" "$(awk -v a="$wall" -v b="$floor" 'BEGIN{print a/b}')" "$user" "$sys" \
        "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$(awk -v s="$stolen" -v t="$TICK" 'BEGIN{print s/t}')"
    if [ "$i" -gt 0 ]; then
        # Each round's time against the first build's in the same round: the machine's speed
        # moves between rounds more than between two runs of one round.
        pairs=$(paste -d' ' "$results/0" "$results/$i")
        median=$(awk '{print $6 / $1}' <<< "$pairs" | sort -g |
            awk '{a[NR]=$1} END {print (a[int((NR+1)/2)] + a[int(NR/2)+1]) / 2}')
        faster=$(awk '$6 < $1' <<< "$pairs" | wc -l)
        printf '    against the first build, round by round: median %.3f, faster in %d of %d\n' \
            "$median" "$faster" "$ROUNDS"
    fi
    i=$((i + 1))
done
echo "floor: $floor s (median of $ROUNDS)"
rm -rf "$results" "$WORK/ab-time"
