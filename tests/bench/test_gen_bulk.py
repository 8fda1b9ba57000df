#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""gen_bulk, the replay benchmark's capture generator, checked by Wireshark.

Two associations with a 50,000-byte data set (four P-DATA-TF PDUs), read by
tshark with the DICOM dissector on port 104:
- per association (TCP stream), in order: A-ASSOCIATE-RQ and -AC (CT Image
  Storage, Explicit VR Little Endian accepted, max PDU 16384 both ways), the
  C-STORE-RQ command (group length equal to the bytes of the elements after
  it), data PDVs of 16378 bytes reassembled to the whole data set with only
  the last marked last, the C-STORE-RSP (group length right, status 0),
  A-RELEASE-RQ and -RP; client ports differ;
- TCP: SYN, SYN-ACK, ACK first; FIN from the SCU, FIN from the SCP, ACK last;
  client segments of at most 1448 bytes; the SCP acknowledges after every
  second client segment of the data set, each ACK for all bytes sent so far;
- no TCP analysis flag (-Y tcp.analysis.flags) and no expert warning or error;
- timestamps never go back, the data set at 0.5 to 1 Gbit/s of wire time;
- `dicomon replay --json` (when --dicomon is given; root): 2 released flows without
  gaps or retransmits, 2 C-STORE-RSP with status 0.

  tests/bench/test_gen_bulk.py --gen .output/tests/gen_bulk [--dicomon .output/dicomon]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

N, D, MSS, PDV = 2, 50000, 1448, 16378
TSHARK = ["tshark", "-o", "dicom.tag_tree:TRUE", "-d", "tcp.port==104,dicom"]
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def fields(pcap, filt, names):
    cmd = TSHARK + ["-r", pcap, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                    "-E", "aggregator=;"]
    if filt:
        cmd += ["-Y", filt]
    for n in names:
        cmd += ["-e", n]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [dict(zip(names, line.split("|"))) for line in out.splitlines()]


def ints(v):
    return [int(x, 0) for x in v.split(";")] if v else []


def command(p, want_cmd, want_status):
    """The command set of P-DATA row p: group length, command field, status."""
    tags, vls = ints(p["dicom.tag"]), ints(p["dicom.tag.vl"])
    u16 = dict(zip([t for t in tags if t not in (0x0, 0x2, 0x1000)], ints(p["dicom.tag.value.16u"])))
    glen = ints(p["dicom.tag.value.32u"])
    ok = (tags and tags[0] == 0 and glen and glen[0] == sum(8 + v for v in vls[1:])
          and p["dicom.pdv.flags"] == "0x03" and u16.get(0x100) == want_cmd)
    if want_status is not None:
        ok = ok and u16.get(0x900) == want_status
    return bool(ok)


def check_dicom(pcap):
    rows = fields(pcap, "dicom", ["tcp.stream", "tcp.srcport", "dicom.pdu.type",
                                  "dicom.pdv.flags", "dicom.pdv.len", "dicom.tag",
                                  "dicom.tag.vl", "dicom.tag.value.16u", "dicom.tag.value.32u",
                                  "dicom.pctx.xfer.syntax", "dicom.max_pdu_len",
                                  "dicom.pdv.reassembled.length"])
    streams = sorted({r["tcp.stream"] for r in rows})
    check(len(streams) == N, "%d associations (TCP streams with DICOM): %d" % (N, len(streams)))
    ports = set()
    for s in streams:
        p = [r for r in rows if r["tcp.stream"] == s]
        ports.add(p[0]["tcp.srcport"])
        types = [r["dicom.pdu.type"] for r in p]
        ndata = len(types) - 6
        want = ["0x01", "0x02"] + ["0x04"] * (ndata + 2) + ["0x05", "0x06"]
        check(types == want, "stream %s: RQ, AC, P-DATA x%d, release RQ/RP: %s" % (s, ndata + 2, types))
        if types != want:
            continue
        frm = [r["tcp.srcport"] == "104" for r in p]
        check(frm == [False, True, False] + [False] * ndata + [True, False, True],
              "stream %s: each PDU from the right side" % s)
        check(all("1.2.840.10008.1.2.1)" in r["dicom.pctx.xfer.syntax"].split(",")[0] and
                  r["dicom.max_pdu_len"] == "16384" for r in p[:2]) and
              "," not in p[1]["dicom.pctx.xfer.syntax"],
              "stream %s: Explicit VR LE proposed first and accepted, max PDU 16384" % s)
        check(command(p[2], 0x0001, None), "stream %s: C-STORE-RQ, group length right" % s)
        check(command(p[-3], 0x8001, 0), "stream %s: C-STORE-RSP status 0, group length right" % s)
        data = p[3:-3]
        check(ndata == (D + PDV - 1) // PDV and
              all(r["dicom.pdv.len"] == str(PDV + 2) for r in data[:-1]) and
              [r["dicom.pdv.flags"] for r in data] == ["0x00"] * (ndata - 1) + ["0x02"],
              "stream %s: %d data PDVs of %d bytes, only the last marked last" % (s, ndata, PDV))
        check(data[-1]["dicom.pdv.reassembled.length"] == str(D),
              "stream %s: data set reassembled to %d bytes: %s"
              % (s, D, data[-1]["dicom.pdv.reassembled.length"]))
    check(len(ports) == N, "client ports differ: %s" % sorted(ports))


def check_tcp(pcap):
    rows = fields(pcap, None, ["frame.time_epoch", "frame.len", "tcp.stream", "tcp.srcport",
                               "tcp.flags", "tcp.len", "tcp.ack", "tcp.nxtseq"])
    times = [float(r["frame.time_epoch"]) for r in rows]
    check(all(a <= b for a, b in zip(times, times[1:])), "timestamps never go back")
    for s in sorted({r["tcp.stream"] for r in rows}):
        p = [r for r in rows if r["tcp.stream"] == s]
        cli = [r["tcp.srcport"] != "104" for r in p]
        fl = [int(r["tcp.flags"], 16) for r in p]
        check(fl[:3] == [0x002, 0x012, 0x010] and cli[:3] == [True, False, True],
              "stream %s: SYN, SYN-ACK, ACK" % s)
        check(fl[-3:] == [0x011, 0x011, 0x010] and cli[-3:] == [True, False, True],
              "stream %s: FIN from the SCU, FIN from the SCP, last ACK" % s)
        lens = [int(r["tcp.len"]) for r in p]
        check(max(lens) == MSS, "stream %s: client segments of at most %d bytes" % (s, MSS))
        # the data set: from the C-STORE-RQ's segment to the last full-size segment's ACK
        run, worst, acks, nxt, good = 0, 0, 0, 0, True
        for r, c, n in zip(p, cli, lens):
            if c and n:
                run += 1
                worst = max(worst, run)
                nxt = int(r["tcp.nxtseq"])
            elif not c and n == 0 and int(r["tcp.flags"], 16) == 0x010 and run:
                acks += 1
                good = good and int(r["tcp.ack"]) == nxt
                run = 0
            elif not c and n:
                run = 0
        segs = sum(1 for c, n in zip(cli, lens) if c and n)
        check(worst == 2 and good and acks >= (segs - 4) // 2,
              "stream %s: an SCP ACK for all bytes so far after every second segment "
              "(%d client segments, %d pure ACKs, longest run %d)" % (s, segs, acks, worst))
        bulk = [(float(r["frame.time_epoch"]), int(r["frame.len"]))
                for r, c, n in zip(p, cli, lens) if c and n == MSS]
        bits = sum(8 * (ln + 24) for _, ln in bulk[1:])
        rate = bits / (bulk[-1][0] - bulk[0][0]) if len(bulk) > 1 and bulk[-1][0] > bulk[0][0] else 0
        check(0.5e9 <= rate <= 1.0e9 * 1.01,
              "stream %s: data set at 0.5-1 Gbit/s of wire time: %.3f Gbit/s" % (s, rate / 1e9))
    bad = subprocess.run(TSHARK + ["-r", pcap, "-Y", "tcp.analysis.flags"],
                         capture_output=True, text=True, check=True).stdout
    check(bad == "", "no TCP analysis flags: %r" % bad[:300])
    bad = subprocess.run(TSHARK + ["-r", pcap, "-Y", "_ws.expert.severity >= 0x00600000"],
                         capture_output=True, text=True, check=True).stdout
    check(bad == "", "no expert warnings or errors: %r" % bad[:300])


def check_dicomon(dicomon, pcap):
    out = subprocess.run([dicomon, "replay", "-q", "--json", pcap], capture_output=True,
                         text=True, check=True).stdout
    recs = [json.loads(line) for line in out.splitlines()]
    ends = [r for r in recs if r["event"] == "flow_end"]
    rsp = [r for r in recs if r["event"] == "dimse" and r.get("command") == "C-STORE-RSP"
           and r.get("status") == 0]
    check(len(ends) == N and all(e["state"] == "released" and e["gaps"] == 0 and
                                 e["retransmits"] == 0 for e in ends),
          "dicomon replay --json: %d released flows without gaps or retransmits" % N)
    check(len(rsp) == N, "dicomon replay --json: %d C-STORE-RSP status 0: %d" % (N, len(rsp)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gen", required=True)
    ap.add_argument("--dicomon")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmtest-genbulk.%d." % os.getpid()) as w:
        pcap = os.path.join(w, "bulk.pcap")
        subprocess.run([a.gen, pcap, "-n", str(N), "-d", str(D)], check=True)
        check_dicom(pcap)
        check_tcp(pcap)
        if a.dicomon:
            check_dicomon(a.dicomon, pcap)
        for bad in (["-d", "127"], ["-d", "1001"], ["-n", "x"], ["-d", "-4"], ["-z", "1"]):
            r = subprocess.run([a.gen, os.path.join(w, "x.pcap")] + bad, capture_output=True,
                               text=True)
            check(r.returncode == 1 and "gen_bulk:" in r.stderr,
                  "gen_bulk %s: refused with a message" % " ".join(bad))
    print("test_gen_bulk: %s" % ("FAIL: %d" % len(fails) if fails else "all passed"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
