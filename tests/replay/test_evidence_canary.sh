#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Evidence pcaps hold no patient data (issue 14): a planted-canary capture
# (tests/replay/gen_canary.c: canaries in a C-STORE data set, in the
# C-STORE-RSP's Error Comment, Offending Element and an unknown command
# element with the command split over two PDUs, in a data set sent in a PDV
# flagged "command", and in Ethernet trailers) is replayed with --evidence;
# its evidence pcap must contain none of the canaries, tshark must still
# dissect the C-STORE-RSP with its status, and the command PDV that is not a
# command set is counted (dicomon_evidence_bad_commands_total).
#
#   sudo tests/replay/test_evidence_canary.sh [path/to/dicomon]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
GEN=${GEN_CANARY:-$REPO/.output/tests/gen_canary}
[[ $EUID -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/dmcanary-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"

passed=0 failed=0
check() { # check DESCRIPTION COMMAND...: COMMAND must succeed
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $what" >&2
	fi
}

CANARIES=("LEAK^CANARY" "CANARY123" "CANARYUNKNOWN1" "FAKE^CANARY" "TRAILER^CANARY" "mismatch")
"$GEN" canary.pcap
for c in "${CANARIES[@]}"; do
	check "the capture holds the canary $c" grep -aqF "$c" canary.pcap
done
rc=0
"$DICOMON" replay --json --eve eve.json --metrics-out metrics.prom --evidence ev canary.pcap \
	>replay.out 2>replay.err || rc=$?
check "dicomon replay exits 0 (rc=$rc: $(head -c 300 replay.err))" test "$rc" -eq 0
shopt -s nullglob
files=(ev/*.pcap)
check "one evidence pcap (${#files[@]})" test "${#files[@]}" -eq 1
check "an alert names it" grep -qF '"evidence":' eve.json
for f in "${files[@]}"; do
	for c in "${CANARIES[@]}"; do
		check "no canary $c in $f" bash -c "! grep -aqF '$c' '$f'"
	done
	tshark -r "$f" -d tcp.port==104,dicom >"$f.txt" 2>/dev/null || echo "rc=$?" >>"$f.txt"
	tshark -r "$f" -d tcp.port==104,dicom -V >"$f.v.txt" 2>/dev/null || echo "rc=$?" >>"$f.v.txt"
	check "tshark dissects the C-STORE-RSP with its status" \
		grep -qF "C-STORE-RSP (Error: Data Set does not match SOP Class" "$f.txt"
	check "the status element and the SOP class UID stay" \
		bash -c "grep -qE 'Status +Error: Data Set does not match SOP Class \(0xa900\)' '$f.v.txt' &&
			grep -qF '1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)' '$f.v.txt'"
	check "the error comment keeps its tag and length (42), zeroed" \
		grep -qE '\(0000,0902\) +42 Error Comment' "$f.v.txt"
	check "the association set-up stays (A-ASSOCIATE request MODALITY --> PACS)" \
		grep -qF "A-ASSOCIATE request MODALITY --> PACS" "$f.txt"
	check "no frame is malformed" bash -c "! grep -q 'Malformed\|rc=' '$f.txt'"
done
check "the data set in a command PDV is counted" \
	grep -qx 'dicomon_evidence_bad_commands_total 1' metrics.prom
echo "evidence-canary: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
