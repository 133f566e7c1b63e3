#!/usr/bin/env bash
# letterdrive's render floors, each against a baseline timed in the same run on the same machine,
# taking turns run by run (the machine is shared and its speed moves within minutes). Ratios are
# the median of each run's ratio, times the medians of RUNS runs. Prints a Markdown report, also
# saved to $WORK/results.md. See bench/README.md.
#
#   (a) 100,000 letters into one mbox: letters/s at least 10x mailmerge 2.3.0 --dry-run on the
#       same CSV (aim 50x)
#   (b) .eml files: at most 1.2x the file-creation floor (fsfloor files: the same number of files
#       of the same size)
#   (c) peak RSS at most 20 MiB up to a million letters (mbox)
#
# Knobs (environment):
#   RUNS      timed runs per measurement; the median is shown            (default 3)
#   SIZES     letters per mbox run                                       (default "10000 100000 1000000")
#   EML_SIZES letters per .eml run                                       (default "10000 100000")
#   MM_N      the mbox size mailmerge is timed at, alternating with it   (default 100000)
#   MAILMERGE 1 = time mailmerge (pip installs it into $MMVENV once)     (default 1)
#   PDF_SIZES letters for the PDF figures, no floor; empty to skip       (default "10000")
#   CRITERION 1 = also the per-letter Criterion benchmark                (default 1)
#   WORK      scratch directory, on the disk being measured              (default /tmp/letterdrive-bench)
#   SHARED    gen_recipients.py and the mailmerge files                  (default ../shared/bench)
#   MMVENV    virtualenv for mailmerge                                   (default /tmp/mmvenv)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Built in this checkout's own target directory: one shared with other checkouts holds their
# builds under the same names, and cargo can take theirs as up to date for this one.
export CARGO_TARGET_DIR="$ROOT/target"
RUNS="${RUNS:-3}"
SIZES="${SIZES-10000 100000 1000000}"
EML_SIZES="${EML_SIZES-10000 100000}"
MM_N="${MM_N:-100000}"
MAILMERGE="${MAILMERGE:-1}"
PDF_SIZES="${PDF_SIZES-10000}"
CRITERION="${CRITERION:-1}"
WORK="${WORK:-/tmp/letterdrive-bench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
MMVENV="${MMVENV:-/tmp/mmvenv}"

die() { echo "error: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ -f "$SHARED/gen_recipients.py" ] || die "no $SHARED/gen_recipients.py (set SHARED=...)"
if [ "$MAILMERGE" = 1 ] && [ ! -x "$MMVENV/bin/mailmerge" ]; then
    python3 -m venv "$MMVENV" && "$MMVENV/bin/pip" install -q -r "$SHARED/requirements.txt"
fi

cd "$ROOT"
cargo build --release --quiet --bin letterdrive --example fsfloor
TARGET="$CARGO_TARGET_DIR/release"
# Copies: a build during the run must not change what is timed.
mkdir -p "$WORK/bin"
cp "$TARGET/letterdrive" "$TARGET/examples/fsfloor" "$WORK/bin/"
LD="$WORK/bin/letterdrive"
FLOOR="$WORK/bin/fsfloor"
SIGNER=(--signer-name "Ada Volunteer" --signer-email ada@example.org --signer-city Lyon
        --signer-country France --date 2026-11-27)
# render records each letter it writes beside the journal, in the data directory: here, so that
# runs neither fill the real one nor find each other's records (removed with the output).
export XDG_DATA_HOME="$WORK/data"

# timed CMD... : runs it under /usr/bin/time; sets WALL (s) and RSS (KiB).
timed() {
    local t0 t1
    sync # what earlier runs left to write back is not this run's
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$@" > "$WORK/cmd.out" 2> "$WORK/cmd.err" \
        || { cat "$WORK/cmd.err" >&2; die "failed: $*"; }
    t1=$(date +%s%N)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
    RSS=$(cat "$WORK/rss")
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; } # calc FORMAT EXPRESSION
verdict() { awk "BEGIN {print ($1) ? \"PASS\" : \"FAIL\"}"; }

campaign_for() { # N -> a campaign directory with N recipients
    local dir="$WORK/campaign-$1"
    if [ ! -f "$dir/recipients/bench.csv" ]; then
        rm -rf "$dir"; cp -r "$ROOT/bench/campaign" "$dir"; mkdir -p "$dir/recipients"
        python3 "$SHARED/gen_recipients.py" "$1" --seed 20240601 > "$dir/recipients/bench.csv"
    fi
    echo "$dir"
}

ROWS="$WORK/rows.md" FLOORS="$WORK/floors.md" MAX_RSS=0 MAX_N=0
: > "$ROWS"; : > "$FLOORS"

# floor_run: the floor for measure(), whose locals (mode, n, size, fl) it uses.
floor_run() {
    timed "$FLOOR" "$mode" "$WORK/floor" "$n" "$size"
    fl+=("$WALL"); rm -rf "$WORK/floor"
}

# measure FORMAT N: letterdrive against the floor writing the same bytes the same way (eml: as
# many files of the same average size; mbox: one file), and at N = MM_N mailmerge, in turn.
measure() {
    local format=$1 n=$2 dir ld=() fl=() mm=() rf=() rmm=() rss=0 size w f m r mode i
    dir="$(campaign_for "$n")"
    mode=one; [ "$format" = eml ] && mode=files
    for i in $(seq "$RUNS"); do
        # Every other run the floor goes first (once the first run has given the size), so that
        # neither side always meets the disk as the other left it.
        [ $((i % 2)) = 0 ] && floor_run
        rm -rf "$WORK/out"
        timed "$LD" --campaign "$dir" render -g bench -f "$format" -o "$WORK/out" "${SIGNER[@]}"
        ld+=("$WALL"); [ "$RSS" -gt "$rss" ] && rss=$RSS
        size=$(( $(du -sb --apparent-size "$WORK/out" | cut -f1) / n ))
        rm -rf "$WORK/out" "$XDG_DATA_HOME"
        [ $((i % 2)) = 1 ] && floor_run
        rf+=("$(calc %.4f "${ld[-1]} / ${fl[-1]}")")
        echo "$format $n: letterdrive ${ld[-1]} s, floor ${fl[-1]} s" >&2
        if [ "$format" = mbox ] && [ "$n" = "$MM_N" ] && [ "$MAILMERGE" = 1 ]; then
            timed "$MMVENV/bin/mailmerge" --dry-run --no-limit --output-format raw \
                --template "$SHARED/mailmerge_template.txt" --database "$dir/recipients/bench.csv" \
                --config "$SHARED/mailmerge_server.conf"
            [ "$(grep -c '^>>> message [0-9]* sent$' "$WORK/cmd.out")" = "$n" ] \
                || die "mailmerge did not render $n messages"
            mm+=("$WALL"); rmm+=("$(calc %.4f "$WALL / ${ld[-1]}")"); echo "  mailmerge $WALL s" >&2
        fi
    done
    w=$(printf '%s\n' "${ld[@]}" | median); f=$(printf '%s\n' "${fl[@]}" | median)
    r=$(printf '%s\n' "${rf[@]}" | median)
    echo "| $format | $n | $size B | $(calc %.3f "$w") s | $(calc %.0f "$n / $w") | $(calc %.3f "$f") s ($mode) | $(calc %.2fx "$r") | $(calc %.1f "$rss / 1024") MiB |" >> "$ROWS"
    if [ "$format" = mbox ]; then
        [ "$rss" -gt "$MAX_RSS" ] && MAX_RSS=$rss
        [ "$n" -gt "$MAX_N" ] && MAX_N=$n
    fi
    if [ "$format" = eml ]; then
        echo "| (b) .eml files, $n letters: at most 1.2x the file-creation floor | $(calc %.2fx "$r") (runs: $(printf '%.2f ' "${rf[@]}" | sed 's/ $//')) | $(verdict "$r <= 1.2") |" >> "$FLOORS"
    fi
    if [ ${#mm[@]} -gt 0 ]; then
        m=$(printf '%s\n' "${mm[@]}" | median); r=$(printf '%s\n' "${rmm[@]}" | median)
        echo "| (a) $n letters into one mbox: at least 10x mailmerge --dry-run (aim 50x) | $(calc %.1fx "$r") (runs: $(printf '%.1f ' "${rmm[@]}" | sed 's/ $//'); medians $(calc %.0f "$n / $w") letters/s against $(calc %.0f "$n / $m")) | $(verdict "$r >= 10") |" >> "$FLOORS"
    fi
}

# .eml first: the gigabytes the mbox runs write keep a disk busy for a while afterwards.
for n in $EML_SIZES; do measure eml "$n"; done
for n in $SIZES; do measure mbox "$n"; done
if [ "$MAX_N" -gt 0 ]; then
    v=$(verdict "$MAX_RSS <= 20 * 1024"); [ "$MAX_N" -lt 1000000 ] && v="not judged: no mbox of a million"
    echo "| (c) peak RSS up to a million letters (mbox, largest $MAX_N): at most 20 MiB | $(calc %.1f "$MAX_RSS / 1024") MiB | $v |" >> "$FLOORS"
fi

# PDF: no floor (layout and font subsetting are the cost); one file per letter, then --one-file.
for n in $PDF_SIZES; do
    # The built-in font covers Latin, Greek and Cyrillic; a row in another script would (rightly)
    # stop the run, so those rows are left out.
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
    rows=$(( $(wc -l < "$dir/recipients/bench.csv") - 1 )) # less the header
    for extra in "" --one-file; do
        ws=() rss=0
        for _ in $(seq "$RUNS"); do
            rm -rf "$WORK/out" "$XDG_DATA_HOME"
            timed "$LD" --campaign "$dir" render -g bench -f pdf $extra -o "$WORK/out" "${SIGNER[@]}"
            ws+=("$WALL"); [ "$RSS" -gt "$rss" ] && rss=$RSS
        done
        size=$(( $(du -sb --apparent-size "$WORK/out" | cut -f1) / rows )); rm -rf "$WORK/out"
        w=$(printf '%s\n' "${ws[@]}" | median)
        echo "| pdf ${extra:-(a file each)} | $rows of $n | $size B | $w s | $(calc %.0f "$rows / $w") | | | $(calc %.1f "$rss / 1024") MiB |" >> "$ROWS"
    done
done

{
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo); $WORK on $(df --output=fstype "$WORK" | tail -1); medians of $RUNS runs; letterdrive $(git -C "$ROOT" rev-parse --short HEAD)"
    echo
    echo "| format | N | bytes a letter | letterdrive | letters/s | floor | letterdrive/floor, per run | peak RSS |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    cat "$ROWS"
    echo
    echo "| floor | measured | |"
    echo "|---|---|---|"
    cat "$FLOORS"
    if [ "$CRITERION" = 1 ]; then
        echo
        echo "Per-letter cost, one core, no file I/O (\`cargo bench --bench render\`):"
        echo '```'
        # A long name goes on a line of its own, before its "time:" line.
        cargo bench --quiet --bench render -- --warm-up-time 1 --measurement-time 5 2> /dev/null \
            | awk '/^letter\// {name = $1} /time:/ && !/%/ {sub(/^letter\/[^ ]* */, ""); $1 = $1; print name, $0}'
        echo '```'
    fi
} > "$WORK/results.md"
rm -f "$ROWS" "$FLOORS" "$WORK/rss" "$WORK/cmd.out" "$WORK/cmd.err"
cat "$WORK/results.md"
