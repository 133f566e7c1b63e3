#!/usr/bin/env bash
# letterdrive send throughput, unthrottled, to SMTP sinks on 127.0.0.1 that this script starts
# itself; each sink's own ceiling is measured in the same run by a raw load generator
# (Postfix's smtp-source), and the Python tool mailmerge 2.3.0 sends to the same sink.
# See bench/README.md.
#
# Knobs (environment):
#   N        letters per run                                   (default 10000)
#   RUNS     runs per measurement; the median is shown         (default 3)
#   CONNS    letterdrive --connections values to try           (default "1 2 4 8")
#   SESSIONS smtp-source parallel sessions for the ceilings    (default 4)
#   SINKS    which servers: smtp-sink and/or aiosmtpd          (default "smtp-sink aiosmtpd")
#   MAILMERGE 1 = also time mailmerge into smtp-sink (PyPI)    (default 1)
#   MM_N     letters per mailmerge run                         (default $N)
#   WORK     scratch directory                                 (default /tmp/letterdrive-sendbench)
#   JOURNAL_DIRS where letterdrive's journal goes, one set of runs each: the disk (the real case:
#            one fsync a letter, shared by the connections waiting on it) and tmpfs (what the SMTP path alone allows) (default "$WORK /dev/shm")
#   LETTERDRIVE a letterdrive binary to time instead of building this checkout's
#   SHARED   folder with gen_recipients.py, smtp_sink.py and the mailmerge files (default ../shared/bench)
#   MMVENV   virtualenv with mailmerge and aiosmtpd            (default /tmp/mmvenv)
#
# Mail goes only to servers this script started on 127.0.0.1, on a free port, after checking that
# the process listening there is the one it started; every server is stopped by its PID on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-10000}"
RUNS="${RUNS:-3}"
CONNS="${CONNS:-1 2 4 8}"
SESSIONS="${SESSIONS:-4}"
SINKS="${SINKS:-smtp-sink aiosmtpd}"
MAILMERGE="${MAILMERGE:-1}"
MM_N="${MM_N:-$N}"
WORK="${WORK:-/tmp/letterdrive-sendbench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
MMVENV="${MMVENV:-/tmp/mmvenv}"
JOURNAL_DIRS="${JOURNAL_DIRS-$WORK /dev/shm}"
DEFAULT_CONNS=4
SEED=20240601
HOST=127.0.0.1

die() { echo "error: $*" >&2; exit 1; }
[ -f "$SHARED/gen_recipients.py" ] || die "no $SHARED/gen_recipients.py (set SHARED=...)"
command -v ss > /dev/null || die "ss not found (apt-get install iproute2)"

SERVER_PID=""
JOURNAL_TMP=""
cleanup() {
    stop_server
    if [ -n "$JOURNAL_TMP" ]; then rm -rf "$JOURNAL_TMP"; fi
}
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2> /dev/null || true
        wait "$SERVER_PID" 2> /dev/null || true
        SERVER_PID=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# smtp-sink and smtp-source come with Debian's postfix package; neither needs Postfix running.
PATH="$PATH:/usr/sbin"
if ! command -v smtp-sink > /dev/null || ! command -v smtp-source > /dev/null; then
    [ "$(id -u)" = 0 ] || die "smtp-sink/smtp-source missing: apt-get install postfix (as root)"
    postfix_was_running=0
    [ -s /var/spool/postfix/pid/master.pid ] && postfix_was_running=1
    # "No configuration": no main.cf, so the package has no mail system to start.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix > "$WORK.apt.log" 2>&1 \
        || { cat "$WORK.apt.log" >&2; die "apt-get install postfix failed"; }
    if [ "$postfix_was_running" = 0 ] && [ -s /var/spool/postfix/pid/master.pid ]; then
        postfix stop > /dev/null 2>&1 || true
    fi
fi

need_venv() {
    if [ ! -x "$MMVENV/bin/mailmerge" ] || ! "$MMVENV/bin/python" -c 'import aiosmtpd' 2> /dev/null; then
        python3 -m venv "$MMVENV"
        "$MMVENV/bin/pip" install -q -r "$SHARED/requirements.txt"
    fi
}
if [ "$MAILMERGE" = 1 ] || [[ " $SINKS " == *" aiosmtpd "* ]]; then need_venv; fi

cd "$ROOT"
if [ -n "${LETTERDRIVE:-}" ]; then
    LD="$LETTERDRIVE"
else
    cargo build --release --quiet --locked --bin letterdrive
    LD="${CARGO_TARGET_DIR:-$ROOT/target}/release/letterdrive"
fi
mkdir -p "$WORK"
rm -f "$WORK/best.txt"
SIGNER=(--signer-name "Ada Volunteer" --signer-email ada@example.org --signer-city Lyon
        --signer-country France --date 2026-11-27)

CAMPAIGN="$WORK/campaign"
rm -rf "$CAMPAIGN"
cp -r "$ROOT/bench/campaign" "$CAMPAIGN"
mkdir -p "$CAMPAIGN/recipients"
python3 "$SHARED/gen_recipients.py" "$N" --seed "$SEED" > "$CAMPAIGN/recipients/bench.csv"
MM_CSV="$WORK/mailmerge.csv"
python3 "$SHARED/gen_recipients.py" "$MM_N" --seed "$SEED" > "$MM_CSV"

# The ceiling is measured with one of letterdrive's own letters (smtp-source -F), so the server
# parses the same bytes in the same lines: a Python server's cost is per line, and smtp-source's own
# filler has 78-character lines where a letter has many short ones. smtp-source's filler of the
# same size is measured too, for reference.
"$LD" --campaign "$CAMPAIGN" render -g bench -f mbox -o "$WORK/mbox" "${SIGNER[@]}" > /dev/null
SIZE=$(($(stat -c %s "$WORK/mbox/bench.mbox") / N))
rm -rf "$WORK/mbox"
"$LD" --campaign "$CAMPAIGN" render -g bench -f eml --limit 1 -o "$WORK/eml" "${SIGNER[@]}" > /dev/null
# smtp-source adds CRLF to every line (and dot-stuffs), so it gets the letter with LF endings.
sed 's/\r$//' "$WORK"/eml/*.eml > "$WORK/letter.txt"
rm -rf "$WORK/eml"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server KIND: a fresh server on a free loopback port; sets SERVER_PID and PORT.
start_server() {
    local kind=$1 i
    PORT=$(free_port)
    rm -f "$WORK/server.out" "$WORK/server.count"
    case $kind in
        smtp-sink)
            local user=(); [ "$(id -u)" = 0 ] && user=(-u nobody)
            # -c prints running counters; the last one says how many messages arrived.
            smtp-sink "${user[@]}" -c "$HOST:$PORT" 1000 > "$WORK/server.out" 2>&1 &
            ;;
        aiosmtpd)
            "$MMVENV/bin/python" "$SHARED/smtp_sink.py" --host "$HOST" --port "$PORT" \
                --count-file "$WORK/server.count" > "$WORK/server.out" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    for i in $(seq 100); do
        ss -ltnpH "sport = :$PORT" 2> /dev/null | grep -q "pid=$SERVER_PID," && return 0
        kill -0 "$SERVER_PID" 2> /dev/null || break
        sleep 0.05
    done
    cat "$WORK/server.out" >&2
    die "$kind did not start listening on $HOST:$PORT"
}

# stop_server_count KIND: stops it; sets GOT to the number of messages it accepted.
stop_server_count() {
    local kind=$1
    stop_server
    case $kind in
        smtp-sink) GOT=$(tr '\r' '\n' < "$WORK/server.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2) ;;
        aiosmtpd) GOT=$(cut -d' ' -f1 "$WORK/server.count") ;;
    esac
    GOT=${GOT:-0}
}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A T # "sink|client" -> the runs' seconds, space-separated

# record KEY SECONDS
record() { T[$1]="${T[$1]:-} $2"; echo "  $2 s" >&2; }

# ceiling KIND KEY MESSAGE-OPTIONS...: smtp-source's time for N messages
ceiling() {
    local kind=$1 key=$2 t0 t1
    shift 2
    start_server "$kind"
    t0=$(now)
    smtp-source -d -s "$SESSIONS" -m "$N" "$@" -f bench@example.org -t sink@example.org \
        "$HOST:$PORT" > "$WORK/client.out" 2>&1 || { cat "$WORK/client.out" >&2; die "smtp-source failed"; }
    t1=$(now)
    stop_server_count "$kind"
    [ "$GOT" = "$N" ] || die "$kind got $GOT of $N messages from smtp-source"
    record "$kind|$key" "$(secs "$t0" "$t1")"
}

run_letterdrive() {
    local kind=$1 c=$2 jdir=$3 t0 t1 rc=0 sent journal
    JOURNAL_TMP="$(mktemp -d "$jdir/letterdrive-journal.XXXXXX")"
    journal="$JOURNAL_TMP/journal.jsonl"
    start_server "$kind"
    t0=$(now)
    "$LD" --campaign "$CAMPAIGN" send -g bench --smtp "smtp://$HOST:$PORT?tls=none" \
        --rate unlimited --yes --connections "$c" --journal "$journal" "${SIGNER[@]}" \
        > "$WORK/client.out" 2> "$WORK/client.err" || rc=$?
    t1=$(now)
    stop_server_count "$kind"
    [ "$rc" = 0 ] || { tail -5 "$WORK/client.out" "$WORK/client.err" >&2; die "letterdrive send exited $rc"; }
    sent=$(grep -c '^sent ' "$WORK/client.out" || true)
    [ "$GOT" = "$N" ] && [ "$sent" = "$N" ] || die "$kind got $GOT, letterdrive reported $sent sent, of $N"
    rm -rf "$JOURNAL_TMP"
    JOURNAL_TMP=""
    record "$kind|letterdrive $c $jdir" "$(secs "$t0" "$t1")"
}

run_mailmerge() {
    local kind=$1 t0 t1
    start_server "$kind"
    sed -E "s/^port *=.*/port = $PORT/" "$SHARED/mailmerge_server.conf" > "$WORK/mailmerge.conf"
    t0=$(now)
    "$MMVENV/bin/mailmerge" --no-dry-run --no-limit --output-format raw \
        --template "$SHARED/mailmerge_template.txt" --database "$MM_CSV" \
        --config "$WORK/mailmerge.conf" > "$WORK/client.out" 2>&1 \
        || { tail -5 "$WORK/client.out" >&2; die "mailmerge failed"; }
    t1=$(now)
    stop_server_count "$kind"
    [ "$GOT" = "$MM_N" ] || die "$kind got $GOT of $MM_N messages from mailmerge"
    record "$kind|mailmerge" "$(secs "$t0" "$t1")"
}

# Runs interleave the clients, so a noisy moment on this shared machine hits all of them alike.
for run in $(seq "$RUNS"); do
    for kind in $SINKS; do
        echo "run $run/$RUNS, $kind: ceiling (a letter)" >&2
        ceiling "$kind" ceiling -F "$WORK/letter.txt"
        echo "run $run/$RUNS, $kind: smtp-source filler" >&2
        ceiling "$kind" filler -l "$SIZE"
        for jdir in $JOURNAL_DIRS; do
            for c in $CONNS; do
                echo "run $run/$RUNS, $kind: letterdrive --connections $c, journal in $jdir" >&2
                run_letterdrive "$kind" "$c" "$jdir"
            done
        done
        if [ "$MAILMERGE" = 1 ] && [ "$kind" = smtp-sink ]; then
            echo "run $run/$RUNS, $kind: mailmerge" >&2
            run_mailmerge "$kind"
        fi
    done
done

med() { printf '%s\n' ${T[$1]} | median; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'; }

RESULTS="$WORK/results.md"
{
    echo "date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) cpus; $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
    echo "$N letters of about $SIZE bytes ($(wc -l < "$WORK/letter.txt") lines) per run, median of $RUNS runs; ceiling: smtp-source -d -s $SESSIONS -m $N -F LETTER (one of the letters); filler: smtp-source -d -s $SESSIONS -m $N -l $SIZE"
    echo
    echo "| server | client | median | messages/s | of ceiling | vs mailmerge |"
    echo "|---|---|---:|---:|---:|---:|"
    for kind in $SINKS; do
        ceil=$(rate "$N" "$(med "$kind|ceiling")")
        mm=""
        if [ -n "${T[$kind|mailmerge]:-}" ]; then mm=$(rate "$MM_N" "$(med "$kind|mailmerge")"); fi
        printf '| %s | smtp-source, a letter (ceiling) | %.2f s | %s | 100%% | |\n' "$kind" "$(med "$kind|ceiling")" "$ceil"
        filler=$(rate "$N" "$(med "$kind|filler")")
        printf '| %s | smtp-source, its filler of the same size | %.2f s | %s | %s | |\n' "$kind" \
            "$(med "$kind|filler")" "$filler" "$(awk -v a="$filler" -v b="$ceil" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
        for jdir in $JOURNAL_DIRS; do
            fs=$(df --output=fstype "$jdir" | tail -1)
            best=0 bestc=""
            for c in $CONNS; do
                s=$(med "$kind|letterdrive $c $jdir"); r=$(rate "$N" "$s")
                vs=""; [ -n "$mm" ] && vs=$(awk -v a="$r" -v b="$mm" 'BEGIN {printf "%.1fx", a / b}')
                label="letterdrive --connections $c"; [ "$c" = "$DEFAULT_CONNS" ] && label="$label (default)"
                printf '| %s | %s, journal on %s | %.2f s | %s | %s | %s |\n' "$kind" "$label" "$fs" "$s" "$r" \
                    "$(awk -v a="$r" -v b="$ceil" 'BEGIN {printf "%.0f%%", 100 * a / b}')" "$vs"
                [ "$r" -gt "$best" ] && best=$r bestc=$c
            done
            echo "$kind, journal on $fs: best letterdrive --connections $bestc, $best messages/s" >> "$WORK/best.txt"
        done
        if [ -n "$mm" ]; then
            printf '| %s | mailmerge 2.3.0 (%s letters) | %.2f s | %s | %s | 1.0x |\n' "$kind" "$MM_N" \
                "$(med "$kind|mailmerge")" "$mm" "$(awk -v a="$mm" -v b="$ceil" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
        fi
    done
    echo
    cat "$WORK/best.txt"
    echo
    echo "Every run, in seconds (server | client [journal directory]: runs in order):"
    for k in "${!T[@]}"; do printf '%s:%s\n' "$k" "${T[$k]}"; done | sort
} > "$RESULTS"

echo
cat "$RESULTS"
