#!/usr/bin/env bash
# letterdrive replies over a large mbox. The floor (issue: the campaign ledger):
#
#   (f) replies over a 100,000-message mbox in at most 10 s
#
# The mail is synthetic, in the proportions of a busy campaigner's inbox: of every 20 messages,
# 8 replies naming the letter in In-Reply-To, 2 replies known only by sender and subject, 2
# out-of-office notices, 1 Postfix bounce (a multipart/report read in full), and 7 messages
# that answer nothing. They answer the letters of the bench campaign (bench/campaign) to
# TARGETS recipients from gen_recipients.py, whose Message-IDs are computed as letterdrive
# computes them; the run renders every letter's subject first, which is part of the time.
#
# Knobs (environment): MESSAGES (default 100000), TARGETS (default 10000), RUNS (default 3),
# WORK (default /tmp/letterdrive-repliesbench), SHARED (default ../shared/bench).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Built in this checkout's own target directory: one shared with other checkouts holds their
# builds under the same names, and cargo can take theirs as up to date for this one.
export CARGO_TARGET_DIR="$ROOT/target"
MESSAGES="${MESSAGES:-100000}"
TARGETS="${TARGETS:-10000}"
RUNS="${RUNS:-3}"
WORK="${WORK:-/tmp/letterdrive-repliesbench}"
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
SIGNER=(--signer-name "Ada Volunteer" --signer-email ada@example.org --signer-country France
        --date 2026-11-27)

python3 - "$CAMPAIGN/recipients/bench.csv" "$MESSAGES" > "$WORK/inbox.mbox" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
def message_id(email):
    # letter/message.rs: FNV-1a of campaign, group and address, joined by NUL bytes.
    h = 0xcbf29ce484222325
    for b in b"\0".join([b"bench", b"bench", email.strip().lower().encode()]):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"<bench.bench.{h:016x}@example.org>"
body = "\n".join(["Thank you for your letter about the detentions. We have read it with care"] * 12)
out = sys.stdout
for i in range(int(sys.argv[2])):
    row = rows[i % len(rows)]
    email, org, kind = row["email"], row["organization"], i % 20
    subject = f"An open letter to {org} about detentions, from a resident of France"
    head = [f"Date: Sat, 28 Nov 2026 {i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02} +0000",
            f"Message-ID: <answer.{i}@mail.example.net>", "To: Ada Volunteer <ada@example.org>",
            "MIME-Version: 1.0"]
    if kind < 8:
        head += [f"From: <{email}>", f"Subject: Re: {subject}", f"In-Reply-To: {message_id(email)}",
                 f"References: {message_id(email)}", "Content-Type: text/plain; charset=utf-8"]
        text = body
    elif kind < 10:
        head += [f"From: <{email}>", f"Subject: AW: RE : {subject}", "Content-Type: text/plain; charset=utf-8"]
        text = body
    elif kind < 12:
        head += [f"From: <{email}>", f"Subject: Automatic reply: {subject}", "Auto-Submitted: auto-replied",
                 f"In-Reply-To: {message_id(email)}", "Content-Type: text/plain; charset=utf-8"]
        text = "I am out of the office until Monday."
    elif kind < 13:
        head += ["From: MAILER-DAEMON@mail.example.org (Mail Delivery System)",
                 "Subject: Undelivered Mail Returned to Sender", "Auto-Submitted: auto-replied",
                 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"']
        text = (f"--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
                f"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.org\n\n"
                f"Final-Recipient: rfc822; {email}\nAction: failed\nStatus: 5.1.1\n\n"
                f"--b\nContent-Type: text/rfc822-headers\n\nFrom: ada@example.org\nTo: {email}\n"
                f"Message-ID: {message_id(email)}\n\n--b--")
    else:
        head += [f"From: <news{i % 97}@lists.example.net>", f"Subject: Weekly digest {i}",
                 "Content-Type: text/plain; charset=utf-8"]
        text = body
    out.write(f"From sender@example.net Sat Nov 28 12:00:00 2026\n" + "\n".join(head) + "\n\n" + text + "\n\n")
PY
MBOX_MB=$(du -m "$WORK/inbox.mbox" | cut -f1)

walls=() rss=0
for run in $(seq "$RUNS"); do
    rm -f "$WORK"/journal.*
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$WORK/letterdrive" --campaign "$CAMPAIGN" replies \
        --mbox "$WORK/inbox.mbox" --journal "$WORK/journal.jsonl" "${SIGNER[@]}" > "$WORK/out" 2>&1 \
        || { cat "$WORK/out"; die "replies failed"; }
    t1=$(date +%s%N)
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')")
    r=$(cat "$WORK/rss"); [ "$r" -gt "$rss" ] && rss=$r
    echo "run $run: ${walls[-1]} s" >&2
done
grep -E "^(read|recorded)" "$WORK/out" >&2
wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
mib=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; $MESSAGES messages ($MBOX_MB MB) answering $TARGETS letters, median of $RUNS runs; letterdrive $(git -C "$ROOT" rev-parse --short HEAD)"
echo
echo "| floor | measured | |"
echo "|---|---|---|"
echo "| (f) replies over $MESSAGES messages: at most 10 s | $wall s (runs: ${walls[*]}), peak RSS $mib MiB | $(awk -v w="$wall" 'BEGIN {print (w <= 10) ? "PASS" : "FAIL"}') |"
