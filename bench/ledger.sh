#!/usr/bin/env bash
# letterdrive report over many ledger events. The floor (issue: the campaign ledger):
#
#   (e) 1,000,000 events (10,000 volunteers x 100 targets) in at most 5 s and 200 MiB
#
# The events are synthetic: VOLUNTEERS ledgers' worth of sent letters, a tenth of them replied
# to, all in one file, to TARGETS recipients of the bench campaign (bench/campaign, recipients
# from gen_recipients.py), keyed exactly as `letterdrive export` keys them.
#
# Knobs (environment): VOLUNTEERS (default 10000), TARGETS (default 100), RUNS (default 3),
# WORK (default /tmp/letterdrive-ledgerbench), SHARED (default ../shared/bench).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Built in this checkout's own target directory: one shared with other checkouts holds their
# builds under the same names, and cargo can take theirs as up to date for this one.
export CARGO_TARGET_DIR="$ROOT/target"
VOLUNTEERS="${VOLUNTEERS:-10000}"
TARGETS="${TARGETS:-100}"
RUNS="${RUNS:-3}"
WORK="${WORK:-/tmp/letterdrive-ledgerbench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
die() { echo "error: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"

cd "$ROOT"
cargo build --release --quiet --bin letterdrive
mkdir -p "$WORK"
cp "$CARGO_TARGET_DIR/release/letterdrive" "$WORK/letterdrive"
CAMPAIGN="$WORK/campaign"
rm -rf "$CAMPAIGN"; cp -r "$ROOT/bench/campaign" "$CAMPAIGN"; mkdir -p "$CAMPAIGN/recipients"
python3 "$SHARED/gen_recipients.py" "$TARGETS" --seed 20240601 > "$CAMPAIGN/recipients/bench.csv"

python3 - "$CAMPAIGN/recipients/bench.csv" "$VOLUNTEERS" > "$WORK/events.jsonl" <<'PY'
import csv, hashlib, hmac, json, sys
campaign = "bench"
key = lambda email: hmac.new(campaign.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]
targets = [key(row["email"]) for row in csv.DictReader(open(sys.argv[1], encoding="utf-8"))]
out = sys.stdout
for v in range(int(sys.argv[2])):
    vkey = key(f"volunteer{v}@example.net")
    for t, tkey in enumerate(targets):
        state = "replied" if (v + t) % 10 == 0 else "sent"
        day = 1 + (v * 7 + t) % 28
        out.write(json.dumps({"campaign": campaign, "group": "bench", "recipient": tkey,
            "volunteer": vkey, "channel": "email", "state": state,
            "time": f"2026-11-{day:02}T12:00:00Z",
            "message_id": f"<bench.bench.{t:016x}@volunteer{v}.example.net>"}) + "\n")
PY
EVENTS=$(wc -l < "$WORK/events.jsonl")

walls=() rss=0
for run in $(seq "$RUNS"); do
    rm -rf "$WORK/report"
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$WORK/letterdrive" --campaign "$CAMPAIGN" report \
        "$WORK/events.jsonl" --out "$WORK/report" > "$WORK/out" 2>&1 || { cat "$WORK/out"; die "report failed"; }
    t1=$(date +%s%N)
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')")
    r=$(cat "$WORK/rss"); [ "$r" -gt "$rss" ] && rss=$r
    echo "run $run: ${walls[-1]} s" >&2
done
wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
mib=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; $EVENTS events ($VOLUNTEERS volunteers x $TARGETS targets), median of $RUNS runs; letterdrive $(git -C "$ROOT" rev-parse --short HEAD)"
echo
echo "| floor | measured | |"
echo "|---|---|---|"
echo "| (e) report over $EVENTS events: at most 5 s and 200 MiB | $wall s (runs: ${walls[*]}), peak RSS $mib MiB | $(awk -v w="$wall" -v m="$mib" 'BEGIN {print (w <= 5 && m <= 200) ? "PASS" : "FAIL"}') |"
