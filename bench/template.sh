#!/usr/bin/env bash
# How letterdrive's time grows with the size of a template. The floor (issue: hardening, item 4):
#
#   time per KB of template flat from 10 KB to 1 MB
#
# The templates are the bench campaign's letter (bench/campaign) with its middle paragraphs
# repeated until the template has the size measured: plain text with a substitution every 150
# bytes or so, a `{{#each}}` and an `{{#if}}`, as letters have. Each size is timed with `check`
# (which reads every template once) and with `render` of TARGETS letters to .eml files; the time
# of the unchanged 2 KB letter is subtracted, and what is left is divided by the kilobytes added.
#
# Knobs (environment): SIZES (KB, default "10 30 100 300 1000"), TARGETS (default 2), RUNS
# (default 5, the median is shown), WORK (default /tmp/letterdrive-templatebench), SHARED
# (default ../shared/bench).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# Built in this checkout's own target directory: one shared with other checkouts holds their
# builds under the same names, and cargo can take theirs as up to date for this one.
export CARGO_TARGET_DIR="$ROOT/target"
SIZES="${SIZES:-10 30 100 300 1000}"
TARGETS="${TARGETS:-2}"
RUNS="${RUNS:-5}"
WORK="${WORK:-/tmp/letterdrive-templatebench}"
SHARED="${SHARED:-$ROOT/../shared/bench}"
die() { echo "error: $*" >&2; exit 1; }

cd "$ROOT"
cargo build --release --quiet --bin letterdrive
mkdir -p "$WORK"
cp "$CARGO_TARGET_DIR/release/letterdrive" "$WORK/letterdrive"
CAMPAIGN="$WORK/campaign"
rm -rf "$CAMPAIGN"; cp -r "$ROOT/bench/campaign" "$CAMPAIGN"; mkdir -p "$CAMPAIGN/recipients"
python3 "$SHARED/gen_recipients.py" "$TARGETS" --seed 20240601 > "$CAMPAIGN/recipients/bench.csv"
cp "$CAMPAIGN/templates/bench.md.hbs" "$WORK/letter.md.hbs"
# The run's data (journal, letter records) stays in the scratch directory.
export XDG_DATA_HOME="$WORK/data"

python3 - "$WORK" "$RUNS" $SIZES <<'PY'
import os, shutil, statistics, subprocess, sys, time

work, runs, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
campaign = os.path.join(work, "campaign")
template = os.path.join(campaign, "templates", "bench.md.hbs")
letter = open(os.path.join(work, "letter.md.hbs"), encoding="utf-8").read()
# The letter's middle: from its second paragraph to the list of demands.
head, rest = letter.split("\n\n", 1)
middle, tail = rest.split("{{#each demands}}", 1)
binary = os.path.join(work, "letterdrive")
signer = ["--signer-name", "Ada Volunteer", "--signer-email", "ada@example.org",
          "--signer-country", "France", "--signer-city", "Lyon", "--date", "2026-11-27"]

def make(kb):
    text = head + "\n\n"
    while len(text.encode()) + len(middle.encode()) + len(tail) < kb * 1000:
        text += middle
    text += "{{#each demands}}" + tail
    with open(template, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode())

def timed(args):
    best = []
    for _ in range(runs):
        out = os.path.join(work, "out")
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        done = subprocess.run([binary, *args], cwd=campaign, capture_output=True, text=True)
        best.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"letterdrive {' '.join(args)} failed:\n{done.stderr}")
    return statistics.median(best)

check = ["check"]
render = ["render", "-g", "bench", "-f", "eml", "-o", "out", *signer]
with open(template, "w", encoding="utf-8") as f:
    f.write(letter)
base_bytes = len(letter.encode())
base = (timed(check), timed(render))
print(f"letter of {base_bytes} bytes: check {base[0]*1000:.1f} ms, render {base[1]*1000:.1f} ms")
print(f"{'template':>10} {'check':>9} {'render':>9} {'check ms/KB':>12} {'render ms/KB':>13}")
rows = []
for kb in sizes:
    size = make(kb)
    t = (timed(check), timed(render))
    added = (size - base_bytes) / 1000
    per = [(t[i] - base[i]) * 1000 / added for i in range(2)]
    rows.append(per)
    print(f"{size/1000:>8.0f}KB {t[0]:>8.3f}s {t[1]:>8.3f}s {per[0]:>12.3f} {per[1]:>13.3f}")
ratio = max(r[1] for r in rows) / max(min(r[1] for r in rows), 1e-9)
print(f"render ms/KB, largest over smallest: {ratio:.2f}")
PY
rm -rf "$WORK/out" "$WORK/data"
