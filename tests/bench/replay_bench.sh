#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Replay throughput: `dicomon replay` (every packet through the XDP program
# with BPF_PROG_TEST_RUN, then decoders, table, rules, event lines) against
# `tshark -r` with Wireshark's DICOM dissector on the same capture, best of 3
# runs each, wall clock, as packets per second and their ratio. Root (CAP_BPF).
#
# 1. The recorded DCMTK capture 200 times (44,200 packets, 1,600 small
#    associations), `--json`, with and without each reader's start-up (timed
#    on a 1-packet capture).
# 2. Bulk: gen_bulk's capture (100 C-STORE associations of a 3 MiB data set,
#    327,500 packets, 342 MB: the issue 15 workload), start-up included:
#    `dicomon replay -q --eve /dev/null`, `dicomon replay -q --json` to
#    /dev/null and tshark, with each reader's peak resident memory (the
#    largest `/usr/bin/time -f %M` of its 3 runs), and dicomon's on a tenth of
#    the capture (memory must not grow with the capture). A binary that
#    refuses /dev/null as the feed file gets `--eve -` with stdout to
#    /dev/null instead; the rows name the command run.
# With OLD=path/to/an/older/dicomon its rows are printed too (before/after).
#
#   sudo tests/bench/replay_bench.sh [DICOMON] [COPIES]
#   BULK_ASSOCS=100 BULK_BYTES=3145728 GEN_BULK=.output/tests/gen_bulk OLD=...
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
COPIES=${2:-200}
GEN=${GEN_BULK:-$REPO/.output/tests/gen_bulk}
BULK_ASSOCS=${BULK_ASSOCS:-100}
BULK_BYTES=${BULK_BYTES:-3145728}
W=$(mktemp -d /tmp/dmbench-replay.$$.XXXXXX)
trap 'rm -rf "$W"' EXIT
editcap -F pcap "$REPO/tests/e2e/testdata/assoc/sample.pcapng" "$W/one.pcap"
python3 "$HERE/multiply_pcap.py" "$W/one.pcap" "$W/big.pcap" "$COPIES"
editcap -r "$W/one.pcap" "$W/first.pcap" 1
"$GEN" "$W/bulk.pcap" -n "$BULK_ASSOCS" -d "$BULK_BYTES" 2>/dev/null
"$GEN" "$W/bulk10.pcap" -n $(((BULK_ASSOCS + 9) / 10)) -d "$BULK_BYTES" 2>/dev/null
if [[ ! -x /usr/bin/time ]]; then
	echo "replay_bench: /usr/bin/time (peak memory) is missing: scripts/install-deps.sh installs it" >&2
	exit 1
fi

python3 - "$W" "$DICOMON" "${OLD:-}" "$BULK_ASSOCS" "$BULK_BYTES" <<'PY'
import os, platform, subprocess, sys, time
w, dicomon, old, nassoc, dbytes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
big, first, bulk, bulk10 = (os.path.join(w, f) for f in ("big.pcap", "first.pcap", "bulk.pcap",
                                                         "bulk10.pcap"))
TS = ["tshark", "-d", "tcp.port==11112,dicom", "-d", "tcp.port==11113,dicom", "-Y", "dicom", "-r"]
BINS = [(label, b) for label, b in (("before", old), ("after", dicomon)) if b]

def packets(pcap):
    out = subprocess.run(["capinfos", "-c", "-M", pcap], capture_output=True, text=True).stdout
    return int([l for l in out.splitlines() if "Number of packets" in l][0].split()[-1])

def run1(cmd):
    """Wall clock and peak RSS in KiB of one run, output to /dev/null. GNU time, not this
    process's wait4: a child forked from Python starts with Python's pages counted."""
    rss = os.path.join(w, "rss")
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    d = time.perf_counter() - t0
    if r.returncode:
        sys.exit("replay_bench: %s: exit %d" % (" ".join(cmd), r.returncode))
    with open(rss) as f:
        return d, int(f.read().split()[-1])

def best(cmd, runs=3):
    r = [run1(cmd) for _ in range(runs)]
    return min(d for d, _ in r), max(m for _, m in r)

def cpu():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()

def count(cmd, needle):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.count(needle)

tsv = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
print("\nREPLAY BENCHMARK: %s (%d CPUs), kernel %s; %s" % (cpu(), os.cpu_count(), platform.release(), tsv))
for label, b in BINS:
    print("%-7s %s" % (label + ":", b))

# 1. The recorded DCMTK capture, multiplied: as before, per binary.
n = packets(big)
t, _ = best(TS + [big])
t1, _ = best(TS + [first])
for label, b in BINS:
    d, _ = best([b, "replay", "--json", big])
    d1, _ = best([b, "replay", "--json", first])  # start-up: load and verify, one packet
    na = count([b, "replay", "--json", big], '"event":"flow_end"')
    tag = "" if len(BINS) == 1 else " [%s]" % label
    print("\nREPLAY (%d packets, %d associations; best of 3, wall clock incl. start-up)%s" % (n, na, tag))
    print("%-42s %10s %12s" % ("reader", "seconds", "packets/s"))
    print("%-42s %10.3f %12.0f" % ("dicomon replay --json", d, n / d))
    print("%-42s %10.3f %12.0f" % ("tshark -r -Y dicom (DICOM dissector)", t, n / t))
    print("ratio dicomon/tshark (packets/s): %.2fx" % (t / d))
    sd, st = (n - 1) / (d - d1), (n - 1) / (t - t1)
    print("start-up (a 1-packet capture): dicomon %.3f s (BPF load and verifier), tshark %.3f s" % (d1, t1))
    print("after start-up: dicomon %.0f packets/s (%.2f us/packet), tshark %.0f packets/s; ratio %.2fx"
          % (sd, 1e6 / sd, st, sd / st))

# 2. Bulk C-STORE associations (gen_bulk), start-up included, with peak memory.
n = packets(bulk)
mb = os.path.getsize(bulk) / 1e6
tcmd = TS + [bulk]
tlines = len(subprocess.run(tcmd, capture_output=True, text=True, check=True).stdout.splitlines())
t, tm = best(tcmd)
print("\nBULK REPLAY (gen_bulk: %d C-STORE associations of %d bytes, %d packets, %.0f MB; best of 3,"
      % (nassoc, dbytes, n, mb))
print("wall clock incl. start-up, output to /dev/null; peak RSS: the largest of the 3 runs)")
print("tshark: %s > /dev/null (%d DICOM lines)" % (" ".join(TS[:-1] + ["-r", "BULK"]), tlines))
print("%-8s %-40s %9s %11s %10s %9s" % ("binary", "reader", "seconds", "packets/s", "vs tshark",
                                       "peak RSS"))
for label, b in BINS:
    helps = subprocess.run([b, "replay", "--help"], capture_output=True, text=True)
    q = ["-q"] if "--quiet" in helps.stdout + helps.stderr else []  # older: no progress line
    eve = ["--eve", "/dev/null"]
    if subprocess.run([b, "replay"] + q + eve + [first], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode:
        eve = ["--eve", "-"]  # it refuses a feed file that is not a regular file
    for extra in (eve, ["--json"]):
        d, m = best([b, "replay"] + q + extra + [bulk])
        print("%-8s %-40s %9.3f %11.0f %9.2fx %6.0f MB" % (label, " ".join(["dicomon replay"] + q + extra),
                                                           d, n / d, t / d, m / 1024))
    out = subprocess.run([b, "replay"] + q + ["--json", bulk], capture_output=True, text=True,
                         check=True).stdout
    print("%-8s   (its --json: %d flow_end records, %d C-STORE-RSP, of %d associations)"
          % ("", out.count('"event":"flow_end"'), out.count('"command":"C-STORE-RSP"'), nassoc))
    _, m10 = run1([b, "replay"] + q + eve + [bulk10])
    print("%-8s   (peak RSS with a tenth of the capture, %d packets: %.0f MB)"
          % ("", packets(bulk10), m10 / 1024))
print("%-8s %-40s %9.3f %11.0f %9.2fx %6.0f MB" % ("", "tshark -r -Y dicom (DICOM dissector)", t, n / t,
                                                   1.0, tm / 1024))
print("goal (issue 15): dicomon replay >= 10x tshark's packets/s here, memory bounded")
PY
