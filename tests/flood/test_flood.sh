#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Floods of half-open A-ASSOCIATE-RQs through `dicomon replay` (gen_flood
# writes the captures; root: BPF_PROG_TEST_RUN). Counts, never times:
#   1. 100,000 flood flows from one source and 6 real C-ECHO associations:
#      every flow gets exactly one EVE record (no flow_id twice), the real
#      ones whole (calling REAL<k>, released, end_reason fin).
#   2. A small table (table.max_associations=800) and 20,000 flood flows with
#      real associations whose AC comes 1,000 flood flows after their RQ:
#      evicted records keep their identity (calling FLOOD<n>) and say
#      end_reason "evicted"; still one record per flow.
#   3. The same with table.max_halfopen_per_source=200: the flood evicts only
#      its own records, every real association is recorded whole. Without
#      the limit (0) the same check must fail (the real ones are evicted):
#      the test shows it can.
#
#   sudo tests/flood/test_flood.sh [DICOMON] [GEN_FLOOD]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
GEN=${2:-${GEN_FLOOD:-$REPO/.output/tests/gen_flood}}
W=$(mktemp -d /tmp/dmflood.$$.XXXXXX)
trap 'rm -rf "$W"' EXIT

# check.py EVE N_FLOOD N_REAL MODE: MODE whole (real ones released/fin) or evicted (they are not).
cat > "$W/check.py" <<'PY'
import collections, json, sys
eve, n_flood, n_real, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ids, reasons, real, bad = collections.Counter(), collections.Counter(), {}, []
for line in open(eve):
    o = json.loads(line)
    if o.get("event_type") != "dicom":
        continue
    d = o["dicom"]
    ids[o["flow_id"]] += 1
    reasons[d.get("end_reason")] += 1
    calling = d.get("calling_ae") or ""
    if not calling.startswith(("FLOOD", "REAL")) or d.get("called_ae") != "PACS":
        bad.append(o["flow_id"])
    if calling.startswith("REAL"):
        real[calling] = (d.get("end_reason"), d.get("outcome"))
    if d.get("end_reason") == "evicted" and not d.get("presentation_contexts"):
        bad.append(o["flow_id"])
fails = []
if len(ids) != n_flood + n_real:
    fails.append("%d associations with a record, want %d" % (len(ids), n_flood + n_real))
twice = [i for i, n in ids.items() if n > 1]
if twice:
    fails.append("%d flow_ids with more than one record (e.g. %s)" % (len(twice), twice[:3]))
if bad:
    fails.append("%d records without their identity (e.g. %s)" % (len(bad), bad[:3]))
whole = [k for k, v in real.items() if v == ("fin", "released")]
if mode == "whole" and len(whole) != n_real:
    fails.append("real associations recorded whole: %d of %d (%s)" % (len(whole), n_real, real))
if mode == "evicted" and (len(real) != n_real or whole):
    fails.append("without the limit the real ones should be evicted: %s" % real)
print("  records %d, flows %d, end reasons %s, real whole %d/%d"
      % (sum(ids.values()), len(ids), dict(reasons), len(whole), n_real))
for f in fails:
    print("  FAIL: " + f)
sys.exit(1 if fails else 0)
PY

fail=0
run() { # name capture mode n_flood n_real [options...]
	local name=$1 cap=$2 mode=$3 nf=$4 nr=$5
	shift 5
	rm -f "$W/eve.json"
	"$DICOMON" replay -o feed.file="$W/eve.json" "$@" "$cap" >/dev/null 2>"$W/err" || {
		echo "FAIL $name: dicomon replay failed"; cat "$W/err"; fail=1; return; }
	echo "$name"
	if python3 "$W/check.py" "$W/eve.json" "$nf" "$nr" "$mode"; then echo "  ok"; else fail=1; fi
}

"$GEN" "$W/f100k.pcap" 100000 --real 6 2>/dev/null
"$GEN" "$W/s20k.pcap" 20000 --real 6 --spread 1000 2>/dev/null
run "100k one-source flood, defaults" "$W/f100k.pcap" whole 100000 6
run "20k flood, table of 800, no per-source limit: evicted keep identity" "$W/s20k.pcap" evicted \
	20000 6 -o table.max_associations=800 -o table.max_halfopen_per_source=0
run "20k flood, table of 800, per-source limit 200: real ones whole" "$W/s20k.pcap" whole \
	20000 6 -o table.max_associations=800 -o table.max_halfopen_per_source=200
# The same check on the run without the limit must fail: it can tell.
rm -f "$W/eve.json"
"$DICOMON" replay -o feed.file="$W/eve.json" -o table.max_associations=800 \
	-o table.max_halfopen_per_source=0 "$W/s20k.pcap" >/dev/null 2>&1
if python3 "$W/check.py" "$W/eve.json" 20000 6 whole >/dev/null; then
	echo "FAIL: the whole-association check passed without the per-source limit"
	fail=1
else
	echo "without the per-source limit the whole-association check fails, as it must"
fi
[ $fail = 0 ] && echo "flood: all passed" || echo "flood: FAILED"
exit $fail
