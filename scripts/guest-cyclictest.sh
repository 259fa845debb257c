#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make bench: cyclictest (rt-tests), one SCHED_FIFO
# 80 thread per CPU waking every millisecond, while COMMAND runs (sh -c).
# Prints, as the report reads it (scripts/bench_report.py):
#
#   wakeups N
#   max_lateness_ns N
#   p9999_lateness_ns N       (99.99% of wake-ups were at most this late)
#   cpuK.max_lateness_ns N    (one line per CPU)
#
# Exits with COMMAND's status, or 125 if cyclictest could not measure.
# Usage: guest-cyclictest.sh COMMAND

json=$(mktemp)
trap 'rm -f "$json"' EXIT
# Lateness is counted per microsecond up to 200 ms; beyond, as overflows,
# which the percentile counts as later than everything.
cyclictest --mlockall --smp --priority=80 --interval=1000 --quiet \
	--histogram=200000 --json="$json" >/dev/null 2>&1 &
ct=$!
# Its threads run once it has locked its memory and printed nothing yet:
# give it a moment before the command starts.
sleep 1
sh -c "$1"
rc=$?
kill -INT "$ct" 2>/dev/null
wait "$ct" || exit 125
python3 - "$json" <<'EOF' || exit 125
import json
import sys

d = json.load(open(sys.argv[1]))
wakeups = worst = 0
hist = {}
over = 0
per_cpu = []
for t in d["thread"].values():
    wakeups += t["cycles"]
    worst = max(worst, t["max"])
    per_cpu.append((t["cpu"], t["max"]))
    for us, n in t.get("histogram", {}).items():
        hist[int(us)] = hist.get(int(us), 0) + n
    over += t.get("overflows", 0)
if not wakeups:
    sys.exit(1)
need = wakeups * 0.9999
seen = 0
p9999 = worst
for us in sorted(hist):
    seen += hist[us]
    if seen >= need:
        p9999 = us
        break
print(f"wakeups {wakeups}")
print(f"max_lateness_ns {worst * 1000}")
print(f"p9999_lateness_ns {p9999 * 1000}")
for cpu, m in sorted(per_cpu):
    print(f"cpu{cpu}.max_lateness_ns {m * 1000}")
EOF
exit "$rc"
