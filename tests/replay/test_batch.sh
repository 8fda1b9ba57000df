#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# `dicomon replay` runs frames in batches (bpf/dicomon.bpf.c dicomon_replay,
# userspace/cmd/replay.c). That the records do not depend on the batching is
# check_golden.py's part (make test-replay runs it with --batch 1, --batch 3
# and a 64 KiB ring). Here: that each way a batch can go was really taken,
# with the same records as one frame per test run:
#   1. batches: far fewer test runs than packets (and one per packet at batch 1);
#   2. a small ring buffer and evidence (large events): batches stop at a
#      quarter-full ring, are drained and go on; nothing is lost;
#   3. frames longer than a batch slot (GRO-coalesced, 3.5-4 KiB and ~60 KB):
#      run alone, in order;
#   4. the kernel's clock is the capture's: a candidate (an RQ's first 4 bytes)
#      whose next segment comes 29 s later in the capture is an association,
#      31 s later it has expired (detection.candidate_seconds 30), however fast
#      the replay runs.
#
#   sudo tests/replay/test_batch.sh [path/to/dicomon]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
[[ $EUID -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/dmbatch-test.XXXXXX)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$W"' EXIT
cd "$W"
FAILS=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# replay NAME [ENV=V...] -- ARGS...: stdout NAME.out, stderr (-v: the batch line) NAME.err
replay() {
	local n=$1
	shift
	local envs=()
	while [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "$DICOMON" replay -v -q "$@" >"$n.out" 2>"$n.err" || echo "rc=$?" >>"$n.err"
	grep -o 'replay: [0-9]* packets run in [0-9]* test runs.*' "$n.err" >"$n.batch" || true
}
# field N of the batch line: packets, runs, batch size, full stops, alone
bfield() {
	sed -E 's/replay: ([0-9]+) packets run in ([0-9]+) test runs \(batches of up to ([0-9]+); ([0-9]+) stopped at a quarter-full ring buffer, ([0-9]+) frames run alone\)/\1 \2 \3 \4 \5/' "$1.batch" |
		awk -v n="$2" '{print $n}'
}
# The records: every line but the replay summary (its timing).
records() { grep -v '"event":"replay"' "$1.out" | grep -v '^dicomon: replayed'; }

editcap -F pcap "$REPO/tests/replay/captures/dcmtk-qr.pcapng" qr.pcap
P=(-p 104,11112,11113)

# 1. Batches.
replay b256 -- --json "${P[@]}" qr.pcap
replay b1 DICOMON_REPLAY_BATCH=1 -- --json "${P[@]}" qr.pcap
pk=$(bfield b256 1)
r256=$(bfield b256 2)
r1=$(bfield b1 2)
if [[ -n $pk && $pk -gt 256 && $r256 -le $(((pk + 255) / 256 + 1)) && $r1 -eq $pk ]]; then
	ok "batches: $pk packets in $r256 test runs (batch 1: $r1)"
else
	bad "batches: packets=$pk runs=$r256, at batch 1 runs=$r1 (want <= packets/256 + 1, and = packets)"
fi
if diff <(records b1) <(records b256) >/dev/null && [[ $(records b1 | grep -c flow_end) -ge 1 ]]; then
	ok "batches: the same $(records b1 | grep -c flow_end) records as one packet per test run"
else
	bad "batches: records differ from one packet per test run"
fi

# 2. A 64 KiB ring (batches stop at 16 KiB) with evidence frames (~1.7 KB events).
replay small -- --json "${P[@]}" -o maps.ringbuf_bytes=65536 --evidence ev-small --eve small.eve qr.pcap
replay big -- --json "${P[@]}" --evidence ev-big --eve big.eve qr.pcap
full=$(bfield small 4)
if [[ -n $full && $full -gt 0 && $(bfield big 4) -eq 0 ]]; then
	ok "ring: $full batches stopped at a quarter-full 64 KiB ring (0 with 16 MiB)"
else
	bad "ring: stops at a quarter-full ring: small=$full big=$(bfield big 4) (want > 0 and 0)"
fi
# Lost events or evidence frames that gave way would show in the counters (0s are not printed).
lost=$( (grep -Eo '(ringbuf_reserve_failures|evidence_yielded)[^0-9]{1,4}[1-9][0-9]*' small.out || true) | wc -l)
if diff <(records big) <(records small | sed 's/ev-small/ev-big/g') >/dev/null &&
	diff big.eve <(sed 's/ev-small/ev-big/g' small.eve) >/dev/null &&
	diff <(cd ev-big && md5sum ./*) <(cd ev-small && md5sum ./*) >/dev/null && [[ $lost -eq 0 ]] &&
	[[ $(ls ev-big | wc -l) -gt 0 ]]; then
	ok "ring: records, EVE and $(ls ev-big | wc -l) evidence pcaps identical; no event lost, no evidence given way"
else
	bad "ring: outputs differ with the small ring, or events lost ($lost counters non-zero)"
fi

# 3. Long frames: 3.5-4 KiB (too long for the test run's page here: run alone
#    after a refused batch slot) and ~60 KB (straight to a test run of their own).
python3 "$HERE/coalesce.py" qr.pcap qr4k.pcap 3700 >/dev/null
python3 "$HERE/coalesce.py" qr.pcap qr60k.pcap >/dev/null
for c in qr4k qr60k; do
	replay "$c" -- --json "${P[@]}" "$c.pcap"
	replay "$c-1" DICOMON_REPLAY_BATCH=1 -- --json "${P[@]}" "$c.pcap"
	alone=$(bfield "$c" 5)
	if [[ -n $alone && $alone -gt 0 ]] && diff <(records "$c-1") <(records "$c") >/dev/null &&
		[[ $(records "$c" | grep -c flow_end) -eq $(records b1 | grep -c flow_end) ]]; then
		ok "long frames ($c): $alone run alone; the records of batch 1, as many as the wire's"
	else
		bad "long frames ($c): alone=$alone, or records differ"
	fi
done

# 4. The capture's clock in the kernel: a held candidate expires by capture time.
python3 - <<'PY'
import struct

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(src, dst, sp, dp, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ph = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64, 6, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp + payload

def item(t, body):
    return struct.pack("!BBH", t, 0, len(body)) + body

def rq(calling, called):
    ctx = item(0x10, b"1.2.840.10008.3.1.1.1")
    pc = item(0x20, b"\x01\0\0\0" + item(0x30, b"1.2.840.10008.1.1") + item(0x40, b"1.2.840.10008.1.2"))
    ui = item(0x50, item(0x51, struct.pack("!I", 16384)))
    body = struct.pack("!HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + \
        b"\0" * 32 + ctx + pc + ui
    return struct.pack("!BBI", 1, 0, len(body)) + body

def capture(path, gap):
    c, s = bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])
    p = rq("BATCHSCU", "BATCHSCP")
    t = 1_700_000_000.0
    recs = [(t, frame(c, s, 40000, 104, 100, 0, 0x02)),
            (t + 0.001, frame(s, c, 104, 40000, 500, 101, 0x12)),
            (t + 0.002, frame(c, s, 40000, 104, 101, 501, 0x10)),
            (t + 0.003, frame(c, s, 40000, 104, 101, 501, 0x18, p[:4])),
            (t + 0.003 + gap, frame(c, s, 40000, 104, 105, 501, 0x18, p[4:]))]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        for ts, fr in recs:
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e9)), len(fr), len(fr)))
            f.write(fr)

capture("gap29.pcap", 29.0)
capture("gap31.pcap", 31.0)
PY
for g in 29 31; do replay "gap$g" -- --json -o detection.candidate_seconds=30 "gap$g.pcap"; done
n29=$(grep -c '"event":"flow_end".*BATCHSCU' gap29.out || true)
n31=$(grep -c '"event":"flow_end".*BATCHSCU' gap31.out || true)
if [[ $n29 -eq 1 && $n31 -eq 0 ]]; then
	ok "clock: the RQ's rest 29 s later (capture time) makes the association, 31 s later it does not"
else
	bad "clock: association records with BATCHSCU: gap 29 s $n29 (want 1), gap 31 s $n31 (want 0)"
fi

if ((FAILS)); then
	echo "test_batch: $FAILS failure(s)"
	exit 1
fi
echo "test_batch: passed"
