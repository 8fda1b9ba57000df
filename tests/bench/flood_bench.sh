#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Replay of floods of half-open A-ASSOCIATE-RQs (tests/flood/gen_flood: one
# source, 25,000 RQ/s, 6 real associations mixed in): seconds and flows per
# second for 10k, 50k and 100k flows, best of 3, wall clock incl. start-up
# (BPF load and verifier), with the default table (16,384 associations) so
# most records are evicted. Text lines (plain `dicomon replay`), JSON lines
# (--json) and the text lines with the EVE feed written to a file. Root.
# With OLD=path/to/an/older/dicomon its rows are printed too (before/after).
#
#   sudo tests/bench/flood_bench.sh [DICOMON] [GEN_FLOOD]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
GEN=${2:-${GEN_FLOOD:-$REPO/.output/tests/gen_flood}}
SIZES=${FLOOD_SIZES:-10000 50000 100000}
W=$(mktemp -d /tmp/dmbench-flood.$$.XXXXXX)
trap 'rm -rf "$W"' EXIT
for n in $SIZES; do
	"$GEN" "$W/f$n.pcap" "$n" --real 6 2>/dev/null
done
python3 - "$W" "$DICOMON" "${OLD:-}" $SIZES <<'PY'
import os, subprocess, sys, time
w, dicomon, old, sizes = sys.argv[1], sys.argv[2], sys.argv[3], [int(x) for x in sys.argv[4:]]
def best(cmd, runs=3):
    b = None
    for _ in range(runs):
        eve = os.path.join(w, "eve.json")
        if os.path.exists(eve):
            os.unlink(eve)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        d = time.perf_counter() - t0
        b = d if b is None or d < b else b
    return b
print("\nFLOOD REPLAY (half-open A-ASSOCIATE-RQs from one source + 6 real associations; best of 3)")
print("%-10s %-28s %8s %12s" % ("binary", "output", "flows", "seconds") + " %12s" % "flows/s")
for label, binary in (("before", old), ("after", dicomon)):
    if not binary:
        continue
    for out, extra in (("text", []), ("--json", ["--json"]),
                       ("text + EVE file", ["-o", "feed.file=" + os.path.join(w, "eve.json")])):
        for n in sizes:
            pcap = os.path.join(w, "f%d.pcap" % n)
            # The old quadratic table takes minutes at 100k: once is enough there.
            s = best([binary, "replay"] + extra + [pcap], 1 if label == "before" else 3)
            print("%-10s %-28s %8d %12.3f %12.0f" % (label, out, n + 6, s, (n + 6) / s))
PY
