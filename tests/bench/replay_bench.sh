#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Replay throughput: `dicomon replay` (every packet through the XDP program
# with BPF_PROG_TEST_RUN, then decoders, table, rules, event lines) against
# `tshark -r` with Wireshark's DICOM dissector on the same capture (200
# copies of the recorded DCMTK capture, 44,200 packets, 1,600 associations),
# best of 3 runs each, as packets per second and their ratio, with and
# without each reader's start-up (timed on a 1-packet capture). Root (CAP_BPF).
#
#   sudo tests/bench/replay_bench.sh [DICOMON] [COPIES]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
COPIES=${2:-200}
W=$(mktemp -d /tmp/dmbench-replay.XXXXXX)
trap 'rm -rf "$W"' EXIT
editcap -F pcap "$REPO/tests/e2e/testdata/assoc/sample.pcapng" "$W/one.pcap"
python3 "$HERE/multiply_pcap.py" "$W/one.pcap" "$W/big.pcap" "$COPIES"
packets=$(capinfos -c -M "$W/big.pcap" | awk '/Number of packets/ {print $NF}')

editcap -r "$W/one.pcap" "$W/first.pcap" 1
python3 - "$DICOMON" "$W/big.pcap" "$packets" "$W/first.pcap" <<'PY'
import subprocess, sys, time
dicomon, pcap, packets, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def best(cmd):
    b = None
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        d = time.perf_counter() - t0
        b = d if b is None or d < b else b
    return b
TS = ["tshark", "-d", "tcp.port==11112,dicom", "-d", "tcp.port==11113,dicom", "-Y", "dicom", "-r"]
d = best([dicomon, "replay", "--json", pcap])
t = best(TS + [pcap])
d1 = best([dicomon, "replay", "--json", first])  # start-up: load and verify, one packet
t1 = best(TS + [first])
out = subprocess.run([dicomon, "replay", "--json", pcap], capture_output=True, text=True).stdout
n = out.count('"event":"flow_end"')
print("\nREPLAY (%d packets, %d associations; best of 3, wall clock incl. start-up)" % (packets, n))
print("%-42s %10s %12s" % ("reader", "seconds", "packets/s"))
print("%-42s %10.3f %12.0f" % ("dicomon replay --json", d, packets / d))
print("%-42s %10.3f %12.0f" % ("tshark -r -Y dicom (DICOM dissector)", t, packets / t))
print("ratio dicomon/tshark (packets/s): %.2fx" % (t / d))
sd, st = (packets - 1) / (d - d1), (packets - 1) / (t - t1)
print("start-up (a 1-packet capture): dicomon %.3f s (BPF load and verifier), tshark %.3f s" % (d1, t1))
print("after start-up: dicomon %.0f packets/s (%.2f us/packet), tshark %.0f packets/s; ratio %.2fx"
      % (sd, 1e6 / sd, st, sd / st))
PY
