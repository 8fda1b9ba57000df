#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# `dicomon replay` as a tool (root: BPF_PROG_TEST_RUN needs CAP_BPF), on the
# recorded capture tests/e2e/testdata/assoc/sample.pcapng (8 DCMTK
# associations, checked against tshark by tests/e2e/test_check_assoc.py):
# every link type gives the same records; two runs give the same output;
# timestamps and packet numbers are the capture's (checked with tshark);
# several files are one capture; damaged, truncated, missing, foreign and
# unsupported captures are clear errors (exit 6) naming file and packet,
# with the records of what was read; --eve FILE, --eve -, --metrics-out
# (promtool); a snaplen-cut capture is read without harm.
#
#   sudo tests/replay/test_replay_cli.sh [path/to/dicomon]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
SAMPLE=$REPO/tests/e2e/testdata/assoc/sample.pcapng
[[ $EUID -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/dmreplay-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"

editcap -F pcap "$SAMPLE" eth.pcap
for k in raw sll sll2 null ieee80211; do python3 "$HERE/relink.py" eth.pcap "$k.pcap" "$k"; done
# Two halves (packets 1-110, 111-221), a cut file, a snaplen-cut file, garbage.
editcap -r eth.pcap first.pcap 1-110
editcap -r eth.pcap second.pcap 111-221
editcap -s 80 eth.pcap snap.pcap
head -c 4096 /dev/urandom >garbage.pcap

run() { # run NAME ARGS...: stdout NAME.out, stderr NAME.err, rc NAME.rc
	local n=$1
	shift
	local rc=0
	"$DICOMON" replay "$@" >"$n.out" 2>"$n.err" || rc=$?
	echo "$rc" >"$n.rc"
}
for k in eth raw sll sll2 null; do run "$k" --json "$k.pcap"; done
# Cut the file inside a packet of the 6th association (two packets before its
# record's packet): 5 associations ended before it, the 6th is open.
python3 - <<'PY'
import json, struct
fe = [json.loads(l) for l in open("eth.out") if '"event":"flow_end"' in l]
k = fe[5]["pcap_cnt"] - 2
data = open("eth.pcap", "rb").read()
off, n = 24, 0
while True:
    n += 1
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    if n == k:
        break
    off += 16 + incl
open("cut.pcap", "wb").write(data[:off + 16 + incl // 2])
PY
run eth2 --json eth.pcap
run halves --json first.pcap second.pcap
run cut --json cut.pcap
run missing --json eth.pcap /nonexistent/capture.pcap
run unsupported --json ieee80211.pcap
run garbage --json garbage.pcap
run snap --json snap.pcap
run eve --eve eve.json --metrics-out metrics.prom eth.pcap
run evestdout --eve - eth.pcap
# Segments coalesced as a GRO/TSO host captures them (frames up to ~55 KB: XDP
# multi-buffer test runs) must give the records of the wire's segments.
editcap -F pcap "$REPO/tests/replay/captures/dcmtk-qr.pcapng" qr.pcap
python3 "$HERE/coalesce.py" qr.pcap qrgro.pcap >coalesce.out
run qr --json -p 104,11112,11113 qr.pcap
run qrgro --json -p 104,11112,11113 qrgro.pcap
tshark -r qrgro.pcap -T fields -e frame.len 2>/dev/null | sort -n | tail -1 >qrgro.max
run evidence --json --eve evidence.json --evidence pcaps eth.pcap
for f in pcaps/*.pcap; do
	tshark -r "$f" -d tcp.port==11112,dicom -d tcp.port==11113,dicom >"$f.txt" 2>&1 || echo "rc=$?" >>"$f.txt"
done
tshark -r eth.pcap -T fields -e frame.number -e frame.time_epoch -e ip.src -e tcp.srcport \
	-e ip.dst -e tcp.dstport >frames.tsv 2>/dev/null
promtool check metrics <metrics.prom >promtool.out 2>&1 || echo "rc=$?" >>promtool.out

SAMPLE=$SAMPLE python3 - <<'PY'
import datetime, json, re, os
passed = failed = 0
def check(ok, name, detail=""):
    global passed, failed
    ok = bool(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:600]))
    if ok: passed += 1
    else: failed += 1
def rc(n): return int(open(n + ".rc").read())
def lines(n):
    out = []
    for l in open(n + ".out", errors="replace"):
        if l.strip():
            out.append(json.loads(l))
    return out
def ends(n, strip=("pcap_filename",)):
    return [json.dumps({k: v for k, v in e.items() if k not in strip}, sort_keys=True)
            for e in lines(n) if e.get("event") == "flow_end"]

base = ends("eth")
check(rc("eth") == 0 and len(base) == 8, "Ethernet: exit 0, 8 association records", (rc("eth"), len(base)))
for k in ("raw", "sll", "sll2", "null"):
    check(rc(k) == 0 and ends(k) == base, "%s link type: the same 8 records as Ethernet" % k)
check(ends("eth2") == base and
      [e for e in lines("eth2") if e.get("event") not in ("replay", "stats")] ==
      [e for e in lines("eth") if e.get("event") not in ("replay", "stats")],
      "two runs give the same lines (ids from 1, capture time)")

# Timestamps and packet numbers: the flow_end's packet is one of its connection's,
# and its timestamp is that packet's capture time.
frames = {}
for l in open("frames.tsv"):
    f = l.rstrip("\n").split("\t")
    frames[int(f[0])] = f
bad = []
for e in lines("eth"):
    if "pcap_cnt" not in e:
        continue
    f = frames.get(e["pcap_cnt"])
    ends_ = {(e["src"], str(e["sport"])), (e["dst"], str(e["dport"]))}
    if not f or {(f[2], f[3]), (f[4], f[5])} != ends_:
        bad.append(("not this connection's packet", e["event"], e["pcap_cnt"], f))
        continue
    t = datetime.datetime.fromisoformat(e["timestamp"]).timestamp()
    if abs(t - float(f[1])) > 2e-6:
        bad.append(("time", e["event"], e["pcap_cnt"], e["timestamp"], f[1]))
n_pkt = sum(1 for e in lines("eth") if "pcap_cnt" in e)
check(n_pkt > 40 and not bad, "every line's pcap_cnt is a packet of its association and its "
      "timestamp that packet's capture time (%d lines)" % n_pkt, bad[:3])
check(all(e.get("pcap_filename") == "eth.pcap" for e in lines("eth") if "pcap_cnt" in e),
      "every line names its file")
summ = [e for e in lines("eth") if e.get("event") == "replay"]
check(summ and summ[0]["packets"] == 221 and summ[0]["packets_run"] == 221 and
      summ[0]["files"][0]["link_type"] == "EN10MB", "summary: 221 packets read and run", summ)

# Several files are one capture: the same records, the packet numbers per file.
h = lines("halves")
check(rc("halves") == 0 and ends("halves", ("pcap_filename", "pcap_cnt")) ==
      ends("eth", ("pcap_filename", "pcap_cnt")), "two halves give the records of the whole")
check({e.get("pcap_filename") for e in h if "pcap_cnt" in e} == {"first.pcap", "second.pcap"} and
      max(e["pcap_cnt"] for e in h if "pcap_cnt" in e) <= 111,
      "records of the halves name their file and count packets within it")

# A capture cut short: exit 6, file and packet named, what was read has its records.
err = open("cut.err").read()
c = lines("cut")
cs = [e for e in c if e.get("event") == "replay"]
check(rc("cut") == 6 and re.search(r"cut\.pcap: packet (\d+): truncated", err),
      "cut capture: exit 6, the error names the file and the packet", (rc("cut"), err))
m = re.search(r"packet (\d+)", err)
read = int(m.group(1)) - 1 if m else -1
fe = [e for e in c if e.get("event") == "flow_end"]
done = [e for e in fe if e["reason"] != "capture_end"]
check(cs and cs[0]["packets"] == read and cs[0]["files"][0]["error"], "its summary counts the "
      "%d packets read and carries the error" % read, cs)
check(len(done) == 5 and ends("cut")[:len(done)] == base[:len(done)] and
      all(e["pcap_cnt"] <= read for e in fe),
      "the associations that ended before the cut have their records (%d), as in the whole "
      "capture" % len(done))
check([e["reason"] for e in fe].count("capture_end") == 1 and len(fe) == 6,
      "the association cut off gets a record with reason capture_end",
      [e["reason"] for e in fe])

for n, what, pat in (("missing", "missing file", r"/nonexistent/capture\.pcap: cannot read the capture: .*No such file"),
                     ("unsupported", "unsupported link type", r"ieee80211\.pcap: unsupported link type IEEE802_11"),
                     ("garbage", "not a capture", r"garbage\.pcap: cannot read the capture")):
    check(rc(n) == 6 and re.search(pat, open(n + ".err").read()) and not lines(n),
          "%s: exit 6 before anything runs, named" % what, (rc(n), open(n + ".err").read()))

s = [e for e in lines("snap") if e.get("event") == "replay"]
check(rc("snap") == 0 and s and s[0]["files"][0]["snaplen_truncated"] == 70 and
      s[0]["packets_run"] == 221, "a capture cut to 80 bytes a packet runs whole, counted", s)

# EVE file and metrics.
eve = [json.loads(l) for l in open("eve.json")]
recs = [e for e in eve if e["event_type"] == "dicom"]
alerts = [e for e in eve if e["event_type"] == "alert"]
check(len(recs) == 8 and all(e.get("pcap_filename") == "eth.pcap" and e.get("pcap_cnt") for e in recs),
      "--eve FILE: 8 association records naming file and packet", len(recs))
t0, t1 = float(frames[1][1]), float(frames[221][1])
def eve_ts(e):
    return datetime.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
check(alerts and all(t0 - 1e-6 <= eve_ts(e) <= t1 + 1e-6 for e in eve) and
      all(e.get("pcap_cnt") for e in alerts),
      "--eve FILE: alerts too, every timestamp inside the capture's time range", len(alerts))
check(any(a["alert"]["signature_id"] == 9100010 for a in alerts), "the cleartext rule fired")
out = open("evestdout.out").read().splitlines()
check(out and all(json.loads(l).get("event_type") in ("dicom", "alert") for l in out) and
      len(out) == len(eve) and "replayed 221 packets" in open("evestdout.err").read(),
      "--eve -: stdout is the EVE feed only, the summary on stderr", out[:2])
prom = open("metrics.prom").read()
def msum(name, **lab):
    t = 0
    for l in prom.splitlines():
        if l.startswith(name + "{") or l.startswith(name + " "):
            if all('%s="%s"' % kv in l for kv in lab.items()):
                t += float(l.rsplit(" ", 1)[1])
    return t
check(open("promtool.out").read().strip() == "", "--metrics-out passes promtool check metrics",
      open("promtool.out").read())
check(msum("dicomon_packets_total", interface="pcap") == 221 and
      msum("dicomon_associations_total") == 8 and
      msum("dicomon_pdus_total", type="A-ASSOCIATE-RQ") == 8,
      "--metrics-out: 221 packets, 8 associations, 8 RQs",
      (msum("dicomon_packets_total", interface="pcap"), msum("dicomon_associations_total")))
qg = [e for e in lines("qrgro") if e.get("event") == "replay"]
check(rc("qrgro") == 0 and int(open("qrgro.max").read()) > 40000 and qg and
      qg[0]["not_run"] == {"short": 0, "oversize": 0, "run_failed": 0} and
      ends("qrgro", ("pcap_filename", "pcap_cnt", "timestamp", "duration")) ==
      ends("qr", ("pcap_filename", "pcap_cnt", "timestamp", "duration")) and len(ends("qr")) == 10,
      "GRO-coalesced frames (largest %s bytes, %s) give the same 10 records" % (
          open("qrgro.max").read().strip(), open("coalesce.out").read().strip()))
# Evidence: a pcap per alerted association, readable by tshark, no data set bytes.
import glob, stat as st_
ev = [json.loads(l) for l in open("evidence.json")]
paths = {a["dicom"].get("evidence") for a in ev if a["event_type"] == "alert"} - {None}
files = sorted(glob.glob("pcaps/*.pcap"))
check(len(files) == 8 and {os.path.basename(p) for p in paths} == {os.path.basename(f) for f in files},
      "--evidence: one pcap per alerted association (8), named in the alerts", (files, paths))
check(all(st_.S_IMODE(os.stat(f).st_mode) == 0o600 for f in files) and
      st_.S_IMODE(os.stat("pcaps").st_mode) == 0o700, "evidence files 0600 in a 0700 directory")
txt = {f: open(f + ".txt").read() for f in files}
check(all("A-ASSOCIATE request" in t and "rc=" not in t for t in txt.values()),
      "tshark reads every evidence pcap and dissects its A-ASSOCIATE request",
      [t[:200] for t in txt.values() if "A-ASSOCIATE request" not in t][:1])
check(any("C-STORE-RQ" in t for t in txt.values()) and any("C-FIND-RQ" in t for t in txt.values()),
      "the DIMSE commands survive in the evidence (C-STORE-RQ, C-FIND-RQ)")
sample = open(os.environ["SAMPLE"], "rb").read()
blob = b"".join(open(f, "rb").read() for f in files)
check(b"E2E^Small" in sample and b"E2E^Small" not in blob and b"MODALITY1" in blob,
      "patient names in the capture's data sets are not in the evidence; AE titles are")
es = [e for e in lines("evidence") if e.get("event") == "stats"]
check(es and es[0]["userspace"].get("evidence", {}).get("files") == 8 and es[0]["userspace"]["evidence"]["redacted_bytes"] > 1000,
      "the counters: 8 files, data set bytes zeroed", es[0]["userspace"].get("evidence") if es else None)
print("replay-cli: %d passed, %d failed" % (passed, failed))
raise SystemExit(1 if failed else 0)
PY
