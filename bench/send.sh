#!/usr/bin/env bash
# letterdrive send, unthrottled, into Postfix's smtp-sink on 127.0.0.1, against mailmerge 2.3.0
# into the same sink, taking turns run by run; the ratio is the median of each run's, times the
# medians of RUNS runs. See bench/README.md. The floor:
#
#   (d) 10,000 letters with the default connections: at least 10x mailmerge's messages/s
#
# For reference, each run also times the sink's ceiling for these letters: Postfix's load
# generator smtp-source sending one of them (-F) over 4 sessions, each connection reused.
#
# Knobs (environment):
#   N           letters per run                                           (default 10000)
#   RUNS        runs; the median is shown                                 (default 3)
#   CONNS       --connections values to time; "default" = no flag         (default "default")
#   MAILMERGE   1 = time mailmerge (pip installs it into $MMVENV once)    (default 1)
#   LETTERDRIVE a letterdrive binary to time instead of building this checkout's
#   WORK        scratch directory, also where the journal goes            (default /tmp/letterdrive-sendbench)
#   SHARED      gen_recipients.py and the mailmerge files                 (default ../shared/bench)
#   MMVENV      virtualenv for mailmerge                                  (default /tmp/mmvenv)
#
# Mail goes only to the smtp-sink this script starts, on 127.0.0.1 and a free port, once it has
# checked that the process listening there is the one it started; each sink is stopped by its PID
# (also on error or Ctrl-C).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Built in this checkout's own target directory: one shared with other checkouts holds their
# builds under the same names, and cargo can take theirs as up to date for this one.
export CARGO_TARGET_DIR="$ROOT/target"
N="${N:-10000}"
RUNS="${RUNS:-3}"
CONNS="${CONNS:-default}"
MAILMERGE="${MAILMERGE:-1}"
WORK="${WORK:-/tmp/letterdrive-sendbench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
MMVENV="${MMVENV:-/tmp/mmvenv}"
HOST=127.0.0.1

die() { echo "error: $*" >&2; exit 1; }
PATH="$PATH:/usr/sbin"
command -v smtp-sink > /dev/null && command -v smtp-source > /dev/null || die "smtp-sink and \
smtp-source missing: DEBIAN_FRONTEND=noninteractive apt-get install -y postfix (no daemon is needed)"
command -v ss > /dev/null || die "ss not found (apt-get install iproute2)"
[ -f "$SHARED/gen_recipients.py" ] || die "no $SHARED/gen_recipients.py (set SHARED=...)"
if [ "$MAILMERGE" = 1 ] && [ ! -x "$MMVENV/bin/mailmerge" ]; then
    python3 -m venv "$MMVENV" && "$MMVENV/bin/pip" install -q -r "$SHARED/requirements.txt"
fi

SINK_PID=""
stop_sink() { # stops the sink; sets GOT to the number of messages it accepted
    [ -n "$SINK_PID" ] || return 0
    kill "$SINK_PID" 2> /dev/null || true
    wait "$SINK_PID" 2> /dev/null || true
    SINK_PID=""
    # -c prints running counters; the last says how many messages arrived.
    GOT=$(tr '\r' '\n' < "$WORK/sink.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2)
    GOT=${GOT:-0}
}
trap stop_sink EXIT
trap 'exit 130' INT TERM

start_sink() { # a fresh smtp-sink on a free loopback port; sets SINK_PID and PORT
    local user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    smtp-sink "${user[@]}" -c "$HOST:$PORT" 1000 > "$WORK/sink.out" 2>&1 &
    SINK_PID=$!
    for _ in $(seq 100); do
        ss -ltnpH "sport = :$PORT" 2> /dev/null | grep -q "pid=$SINK_PID," && return 0
        kill -0 "$SINK_PID" 2> /dev/null || break
        sleep 0.05
    done
    cat "$WORK/sink.out" >&2
    die "smtp-sink did not start listening on $HOST:$PORT"
}

cd "$ROOT"
if [ -n "${LETTERDRIVE:-}" ]; then
    LD="$LETTERDRIVE"
else
    cargo build --release --quiet --bin letterdrive
    # A copy: a build during the run must not change what is timed.
    mkdir -p "$WORK"
    cp "$CARGO_TARGET_DIR/release/letterdrive" "$WORK/letterdrive"
    LD="$WORK/letterdrive"
fi
mkdir -p "$WORK"
SIGNER=(--signer-name "Ada Volunteer" --signer-email ada@example.org --signer-city Lyon
        --signer-country France --date 2026-11-27)
export LETTERDRIVE_PROFILE="$WORK/no-profile.toml" # none: letterdrive's own defaults
export XDG_DATA_HOME="$WORK/data" # where render records its letters: not the real one
CAMPAIGN="$WORK/campaign"
rm -rf "$CAMPAIGN"; cp -r "$ROOT/bench/campaign" "$CAMPAIGN"; mkdir -p "$CAMPAIGN/recipients"
python3 "$SHARED/gen_recipients.py" "$N" --seed 20240601 > "$CAMPAIGN/recipients/bench.csv"
# One of the letters for smtp-source, with LF line ends (it adds the CRs and dot-stuffs).
rm -rf "$WORK/eml"
"$LD" --campaign "$CAMPAIGN" render -g bench -f eml --limit 1 -o "$WORK/eml" "${SIGNER[@]}" > /dev/null
sed 's/\r$//' "$WORK"/eml/*.eml > "$WORK/letter.txt"; rm -rf "$WORK/eml"

declare -A T # client -> its runs' seconds
# timed CLIENT CMD...: a fresh sink, CMD sending to $PORT, the sink stopped; checks it got N.
timed() {
    local client=$1 t0 t1
    shift
    start_sink
    t0=$(date +%s%N)
    "$@" > "$WORK/client.out" 2>&1 || { tail -5 "$WORK/client.out" >&2; die "$client failed"; }
    t1=$(date +%s%N)
    stop_sink
    [ "$GOT" = "$N" ] || die "the sink got $GOT of $N messages from $client"
    T[$client]="${T[$client]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')"
    echo "  $client:${T[$client]}" >&2
}
send_ceiling() {
    smtp-source -d -s 4 -m "$N" -F "$WORK/letter.txt" -f bench@example.org -t sink@example.org "$HOST:$PORT"
}
send_letterdrive() { # CONNS-VALUE: one send of the N letters to $PORT, the journal on disk
    local flag=(); [ "$1" = default ] || flag=(--connections "$1")
    rm -f "$WORK/journal.jsonl"
    "$LD" --campaign "$CAMPAIGN" send -g bench --smtp "smtp://$HOST:$PORT?tls=none" --rate unlimited \
        --yes "${flag[@]}" --journal "$WORK/journal.jsonl" "${SIGNER[@]}" || return
    [ "$(grep -c '^sent ' "$WORK/client.out")" = "$N" ] || { echo "letterdrive did not report $N sent"; return 1; }
}
send_mailmerge() {
    sed -E "s/^port *=.*/port = $PORT/" "$SHARED/mailmerge_server.conf" > "$WORK/mailmerge.conf"
    "$MMVENV/bin/mailmerge" --no-dry-run --no-limit --output-format raw --config "$WORK/mailmerge.conf" \
        --template "$SHARED/mailmerge_template.txt" --database "$CAMPAIGN/recipients/bench.csv"
}

for run in $(seq "$RUNS"); do
    echo "run $run of $RUNS" >&2
    timed ceiling send_ceiling
    for c in $CONNS; do timed "letterdrive $c" send_letterdrive "$c"; done
    if [ "$MAILMERGE" = 1 ]; then timed mailmerge send_mailmerge; fi
done
rm -f "$WORK/journal.jsonl"

median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { awk -v n="$N" -v s="$(median "${T[$1]}")" 'BEGIN {printf "%.0f", n / s}'; }
{
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo); journal on $(df --output=fstype "$WORK" | tail -1); $N letters of $(wc -c < "$WORK/letter.txt") bytes (LF) a run, medians of $RUNS runs; letterdrive ${LETTERDRIVE:-$(git -C "$ROOT" rev-parse --short HEAD)}"
    echo
    echo "| client, into smtp-sink | median | messages/s | of the ceiling | runs (s) |"
    echo "|---|---:|---:|---:|---|"
    clients=(ceiling); for c in $CONNS; do clients+=("letterdrive $c"); done; clients+=(mailmerge)
    for k in "${clients[@]}"; do
        [ -n "${T[$k]:-}" ] || continue
        echo "| $k | $(median "${T[$k]}") s | $(rate "$k") | $(awk -v a="$(rate "$k")" -v b="$(rate ceiling)" 'BEGIN {printf "%.0f%%", 100 * a / b}') |${T[$k]} |"
    done
    if [ "$MAILMERGE" = 1 ] && [[ " $CONNS " == *" default "* ]]; then
        # mailmerge's time over letterdrive's, run by run
        x=$(paste -d' ' <(printf '%s\n' ${T[mailmerge]}) <(printf '%s\n' ${T[letterdrive default]}) | awk '{print $1 / $2}')
        x=$(printf '%.1f' "$(median "$x")")
        echo
        echo "| floor | measured | |"
        echo "|---|---|---|"
        echo "| (d) $N letters into smtp-sink, default connections: at least 10x mailmerge | ${x}x (medians $(rate "letterdrive default") messages/s against $(rate mailmerge)) | $(awk -v x="$x" 'BEGIN {print (x >= 10) ? "PASS" : "FAIL"}') |"
    fi
} > "$WORK/results.md"
echo
cat "$WORK/results.md"
