#!/usr/bin/env bash
# letterdrive throughput and memory, side by side with the file-system floor and with the Python
# tool mailmerge 2.3.0, all measured in the same run on the same machine. See bench/README.md.
#
# Knobs (environment):
#   SIZES     recipients per run for the mbox measurement   (default "10000 100000 1000000")
#   EML_SIZES recipients per run for the .eml measurement   (default "10000 100000")
#   RUNS      timed runs per measurement; the median is shown (default 3)
#   WORK      scratch directory, on the disk being measured  (default /tmp/letterdrive-bench)
#   SHARED    folder holding gen_recipients.py and mailmerge files (default ../shared/bench)
#   MAILMERGE 1 = also time mailmerge --dry-run (needs PyPI; venv in $MMVENV) (default 1)
#   MM_SIZES  recipients for mailmerge                        (default "10000")
#   MMVENV    virtualenv for mailmerge                        (default /tmp/mmvenv)
#   CRITERION 1 = also run the per-letter Criterion benchmark (default 1)
#   PDF_SIZES recipients for the PDF measurement (one file per letter, then --one-file) (default "10000")
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SIZES="${SIZES:-10000 100000 1000000}"
EML_SIZES="${EML_SIZES:-10000 100000}"
RUNS="${RUNS:-3}"
WORK="${WORK:-/tmp/letterdrive-bench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
MAILMERGE="${MAILMERGE:-1}"
MM_SIZES="${MM_SIZES:-10000}"
MMVENV="${MMVENV:-/tmp/mmvenv}"
CRITERION="${CRITERION:-1}"
PDF_SIZES="${PDF_SIZES-10000}"
SEED=20240601

die() { echo "error: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ -f "$SHARED/gen_recipients.py" ] || die "no $SHARED/gen_recipients.py (set SHARED=...)"

cd "$ROOT"
cargo build --release --quiet --bin letterdrive --example fsfloor
LD="$ROOT/target/release/letterdrive"
FLOOR="$ROOT/target/release/examples/fsfloor"
mkdir -p "$WORK"
SIGNER=(--signer-name "Ada Volunteer" --signer-email ada@example.org --signer-city Lyon
        --signer-country France --date 2026-11-27)

# CPU time the hypervisor gave to other guests, all CPUs, in clock ticks (/proc/stat "steal").
steal_ticks() { awk '/^cpu /{print $9; exit}' /proc/stat 2>/dev/null || echo 0; }
TICK=$(getconf CLK_TCK)
# timed CMD... : run under /usr/bin/time; sets WALL (s), RSS (KiB) and STOLEN (s of CPU stolen
# from this machine while it ran: letterdrive needs both cores, the floor mostly waits on the disk,
# so on a shared host this moves the ratio and is printed beside it).
timed() {
    local s0; s0=$(steal_ticks)
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$WORK/cmd.out" 2> "$WORK/cmd.err" \
        || { cat "$WORK/cmd.err" >&2; die "failed: $*"; }
    read -r WALL RSS < "$WORK/time.txt"
    STOLEN=$(awk -v a="$s0" -v b="$(steal_ticks)" -v t="$TICK" 'BEGIN{printf "%.2f", (b-a)/t}')
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }

campaign_for() { # N -> campaign dir with N recipients
    local dir="$WORK/campaign-$1"
    if [ ! -f "$dir/recipients/bench.csv" ]; then
        rm -rf "$dir"; cp -r "$ROOT/bench/campaign" "$dir"; mkdir -p "$dir/recipients"
        python3 "$SHARED/gen_recipients.py" "$1" --seed "$SEED" > "$dir/recipients/bench.csv"
    fi
    echo "$dir"
}

RESULTS="$WORK/results.md"
{
    echo "date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) cpus; $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
    echo "disk for $WORK: $(df -T "$WORK" | awk 'NR==2{print $2}')"
    echo
    echo "| what | N | letterdrive (median) | floor (median) | ratio | peak RSS | letters/s | CPU stolen (median) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} > "$RESULTS"

# measure FORMAT N : letterdrive render against the floor that writes the same bytes the same way
# (eml: as many files of the same average size; mbox: one file), RUNS times; appends a table row.
measure() {
    local format=$1 n=$2 dir walls=() floors=() directs=() stolen=() rss=0 bytes w f d st label
    dir="$(campaign_for "$n")"
    for _ in $(seq "$RUNS"); do
        rm -rf "$WORK/out" "$WORK/floor"
        # Flush what earlier runs left to write back, so each side starts from a quiet disk.
        sync
        timed "$LD" --campaign "$dir" render -g bench -f "$format" -o "$WORK/out" "${SIGNER[@]}"
        walls+=("$WALL"); stolen+=("$STOLEN"); [ "$RSS" -gt "$rss" ] && rss=$RSS
        bytes=$(du -sb --apparent-size "$WORK/out" | cut -f1)
        rm -rf "$WORK/out"
        sync
        if [ "$format" = eml ]; then
            timed "$FLOOR" files "$WORK/floor" "$n" $((bytes / n))
            label=".eml files ($((bytes / n)) B each)"
        else
            timed "$FLOOR" one "$WORK/floor" "$n" $((bytes / n))
            label="mbox (one file, $((bytes / 1000000)) MB)"
        fi
        floors+=("$WALL")
        rm -rf "$WORK/floor"
        if [ "$format" = mbox ] && [ "$DIRECT" = 1 ]; then
            # The floor written as letterdrive writes an mbox, past the page cache: for reference
            # beside the plain loop the targets are set against.
            sync
            timed "$FLOOR" direct "$WORK/floor" "$n" $((bytes / n))
            directs+=("$WALL")
            rm -rf "$WORK/floor"
        fi
    done
    w=$(printf '%s\n' "${walls[@]}" | median); f=$(printf '%s\n' "${floors[@]}" | median)
    st=$(printf '%s\n' "${stolen[@]}" | median)
    printf '| %s | %s | %.2f s | %.2f s | %.2fx | %s MiB | %.0f | %.2f s |\n' "$label" "$n" "$w" \
        "$f" "$(awk -v a="$w" -v b="$f" 'BEGIN{print a/b}')" "$(mib "$rss")" \
        "$(awk -v a="$w" -v n="$n" 'BEGIN{print n/a}')" "$st" >> "$RESULTS"
    if [ ${#directs[@]} -gt 0 ]; then
        d=$(printf '%s\n' "${directs[@]}" | median)
        printf '| %s | %.2f s | %.2f s | %.2fx |\n' "$n" "$w" "$d" \
            "$(awk -v a="$w" -v b="$d" 'BEGIN{print a/b}')" >> "$WORK/direct-rows.md"
    fi
}

# Whether this file system takes direct writes, for the second mbox floor (Linux only).
DIRECT=0
if "$FLOOR" direct "$WORK/direct-probe" 1 4096 2> /dev/null; then DIRECT=1; fi
rm -f "$WORK/direct-probe"

# .eml first: the gigabytes the mbox runs write slow an ext4 disk down for minutes afterwards.
for n in $EML_SIZES; do measure eml "$n"; done
rm -f "$WORK/direct-rows.md"
for n in $SIZES; do measure mbox "$n"; done
if [ -f "$WORK/direct-rows.md" ]; then
    {
        echo
        echo "| mbox against the floor written with O_DIRECT, as letterdrive writes | N | letterdrive (median) | floor, O_DIRECT (median) | ratio |"
        echo "|---|---:|---:|---:|---:|"
        sed 's/^/| mbox /' "$WORK/direct-rows.md"
    } >> "$RESULTS"
    rm -f "$WORK/direct-rows.md"
fi

# PDF has no file-system floor worth the name (layout and font subsetting are the cost): time,
# letters/s and memory, one file per letter and --one-file.
if [ -n "$PDF_SIZES" ]; then
    {
        echo
        echo "| PDF | N | letterdrive (median) | letters/s | peak RSS | output |"
        echo "|---|---:|---:|---:|---:|---:|"
    } >> "$RESULTS"
    for n in $PDF_SIZES; do
        # The built-in font covers Latin, Greek and Cyrillic; a row in another script would
        # (rightly) stop the run, so those rows are left out of this campaign.
        dir="$WORK/campaign-pdf-$n"
        if [ ! -f "$dir/recipients/bench.csv" ]; then
            rm -rf "$dir"; cp -r "$(campaign_for "$n")" "$dir"
            python3 -c '
import sys
ok = lambda line: all(ord(c) < 0x530 or 0x2000 <= ord(c) < 0x2070 for c in line)
lines = open(sys.argv[1], encoding="utf-8", newline="").read().split("\r\n")
open(sys.argv[1], "w", encoding="utf-8", newline="").write("\r\n".join(l for l in lines if ok(l)))
' "$dir/recipients/bench.csv"
        fi
        for mode in per-letter one-file; do
            extra=(); [ "$mode" = one-file ] && extra=(--one-file)
            walls=(); rss=0
            for _ in $(seq "$RUNS"); do
                rm -rf "$WORK/out"; sync
                timed "$LD" --campaign "$dir" render -g bench -f pdf "${extra[@]}" -o "$WORK/out" \
                    "${SIGNER[@]}"
                walls+=("$WALL"); [ "$RSS" -gt "$rss" ] && rss=$RSS
                bytes=$(du -sb --apparent-size "$WORK/out" | cut -f1)
                letters=$(grep -o 'wrote [0-9]*' "$WORK/cmd.out" | grep -o '[0-9]*')
            done
            rm -rf "$WORK/out"
            w=$(printf '%s\n' "${walls[@]}" | median)
            printf '| %s | %s of %s | %.2f s | %.0f | %s MiB | %s MB |\n' "$mode" "$letters" "$n" "$w" \
                "$(awk -v a="$w" -v n="$letters" 'BEGIN{print n/a}')" "$(mib "$rss")" $((bytes / 1000000)) >> "$RESULTS"
        done
    done
fi

if [ "$MAILMERGE" = 1 ]; then
    if [ ! -x "$MMVENV/bin/mailmerge" ]; then
        python3 -m venv "$MMVENV"
        "$MMVENV/bin/pip" install -q -r "$SHARED/requirements.txt"
    fi
    {
        echo
        echo "| mailmerge 2.3.0 --dry-run | N | mailmerge (median) | letterdrive mbox (median) | letterdrive is | mailmerge peak RSS |"
        echo "|---|---:|---:|---:|---:|---:|"
    } >> "$RESULTS"
    for n in $MM_SIZES; do
        dir="$(campaign_for "$n")"
        walls=(); rss=0; ours=()
        for _ in $(seq "$RUNS"); do
            timed "$MMVENV/bin/mailmerge" --dry-run --no-limit --output-format raw \
                --template "$SHARED/mailmerge_template.txt" --database "$dir/recipients/bench.csv" \
                --config "$SHARED/mailmerge_server.conf"
            walls+=("$WALL"); [ "$RSS" -gt "$rss" ] && rss=$RSS
            rm -rf "$WORK/out"
            timed "$LD" --campaign "$dir" render -g bench -f mbox -o "$WORK/out" "${SIGNER[@]}"
            ours+=("$WALL")
        done
        rm -rf "$WORK/out"
        w=$(printf '%s\n' "${walls[@]}" | median); o=$(printf '%s\n' "${ours[@]}" | median)
        printf '| render %s letters | %s | %.2f s | %.2f s | %.0fx faster | %s MiB |\n' "$n" "$n" "$w" "$o" \
            "$(awk -v a="$w" -v b="$o" 'BEGIN{print a/b}')" "$(mib "$rss")" >> "$RESULTS"
    done
fi

if [ "$CRITERION" = 1 ]; then
    {
        echo
        echo "Per-letter cost, one core, no file I/O (Criterion, \`cargo bench --bench render\`):"
        echo '```'
        cargo bench --quiet --bench render -- --warm-up-time 1 --measurement-time 5 2>/dev/null \
            | grep -E '^letter/|time:' | grep -v '%' | paste - - | awk '{$1=$1; print}'
        echo '```'
    } >> "$RESULTS"
fi

echo
cat "$RESULTS"
