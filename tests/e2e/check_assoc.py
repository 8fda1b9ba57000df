#!/usr/bin/env python3
"""Association records: tshark ground truth vs. dicomon flow_end events.

Standard library only. Sub-commands:

  profile  --out CFG [--name ManyContexts]
           Write a DCMTK association profile (storescu -xf CFG NAME) that
           proposes PROFILE_SIZE presentation contexts (numeric UIDs only).

  extract  --pcap P --out T [--payload-out PL] [--ports 11112,11113]
           [--tls-ports 2762] [--http-ports 8042] [--ports-file F]
           Run tshark (Wireshark's DICOM dissector, -T pdml) over a capture
           and write T: one JSON object per TCP frame with the DICOM PDUs
           tshark decoded in it (A-ASSOCIATE items, RJ/ABORT codes, DIMSE
           command elements), and where present the frame's VLAN ids, TLS
           hellos and HTTP request/response line. PL: a second pass with the
           DICOM dissector off, raw TCP payloads (DICOM ports only) for an
           independent PS3.8 decode. Ethernet or Linux cooked (SLL/SLL2),
           IPv4 or IPv6, 802.1Q tags. tshark is told each port's protocol
           (-d tcp.port==N,dicom|tls|http); F lists them, one protocol a line:
           "dicom 104 11112", "tls 2762", "http 8042" (# comments).

  truth    --manifest M --tshark T [--payload PL] [--profile CFG]
           Per-association ground truth from T, checked against what the
           DCMTK tools were told (the manifest's `expect` column) and, with
           PL, against the independent decode of the raw bytes.

  check    (same) --events E [--dicomon-rc N] [--replay CAPTURE]
           Then compare dicomon's flow_end events with the ground truth,
           field by field. --replay: E is `dicomon replay --json CAPTURE`:
           no ready/stats lines required, every line but those carries
           pcap_filename (CAPTURE, any directory) and pcap_cnt (a packet
           number, 1-based, not before the association's first frame);
           pcap_file/pcap_packet are accepted for them.

The manifest is a TSV (header row) written by test_assoc.sh or
tests/replay/make_captures.sh, one row per association in the order they
start:
  name  initiator  dport  calling_ae  called_ae  tool_ok  note  expect
`initiator` is the IP address (v4 or v6) of the side that opens the TCP
connection, `expect` a JSON object (see truth_problems). Rows are paired
with the capture's TCP connections (SYN order) on (initiator, dport); rows
with "pair_on":"called_ae" (a scanner's parallel guesses) first, on the
called AE title tshark saw instead of the order. TCP connections that carry
no payload (a port scan's SYN) are no associations and are not paired.
Two kinds of rows are not checked against a DICOM decode:
  "transport":"tls"  tshark sees the TLS hellos only: the versions are
                     checked, the AE titles and the `told` object are what
                     the tools were told and the output says so.
  "kind":"http"      an HTTP request ("method", "uri", "status"); dicomon
                     must report no association for it.
"open_at_end":true: the association is still open when the capture ends
(no FIN/RST); `dicomon replay` must end it with reason "capture_end".

Exit status: 0 if every check passed, 1 otherwise, 2 on usage/input errors.
The last line printed is always "assoc: N passed, M failed".
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

PDU_NAMES = {
    1: "A-ASSOCIATE-RQ",
    2: "A-ASSOCIATE-AC",
    3: "A-ASSOCIATE-RJ",
    4: "P-DATA-TF",
    5: "A-RELEASE-RQ",
    6: "A-RELEASE-RP",
    7: "A-ABORT",
}
PDU_SHORT = {"A-ASSOCIATE-RQ": "RQ", "A-ASSOCIATE-AC": "AC", "A-ASSOCIATE-RJ": "RJ",
             "P-DATA-TF": "PD", "A-RELEASE-RQ": "RelRQ", "A-RELEASE-RP": "RelRP", "A-ABORT": "AB"}

COMMANDS = {
    0x0001: "C-STORE-RQ", 0x8001: "C-STORE-RSP",
    0x0010: "C-GET-RQ", 0x8010: "C-GET-RSP",
    0x0020: "C-FIND-RQ", 0x8020: "C-FIND-RSP",
    0x0021: "C-MOVE-RQ", 0x8021: "C-MOVE-RSP",
    0x0030: "C-ECHO-RQ", 0x8030: "C-ECHO-RSP",
    0x0100: "N-EVENT-REPORT-RQ", 0x8100: "N-EVENT-REPORT-RSP",
    0x0110: "N-GET-RQ", 0x8110: "N-GET-RSP",
    0x0120: "N-SET-RQ", 0x8120: "N-SET-RSP",
    0x0130: "N-ACTION-RQ", 0x8130: "N-ACTION-RSP",
    0x0140: "N-CREATE-RQ", 0x8140: "N-CREATE-RSP",
    0x0150: "N-DELETE-RQ", 0x8150: "N-DELETE-RSP",
    0x0FFF: "C-CANCEL-RQ",
}
PC_RESULTS = {0: "acceptance", 1: "user-rejection", 2: "no-reason",
              3: "abstract-syntax-not-supported", 4: "transfer-syntaxes-not-supported"}
RJ_REASONS = {
    1: {1: "no-reason-given", 2: "application-context-name-not-supported",
        3: "calling-AE-title-not-recognized", 7: "called-AE-title-not-recognized"},
    2: {1: "no-reason-given", 2: "protocol-version-not-supported"},
    3: {0: "reserved", 1: "temporary-congestion", 2: "local-limit-exceeded"},
}
ABORT_REASONS = {0: "reason-not-specified", 1: "unrecognized-PDU", 2: "unexpected-PDU",
                 4: "unrecognized-PDU-parameter", 5: "unexpected-PDU-parameter",
                 6: "invalid-PDU-parameter-value"}
# implementation class UID roots -> fingerprint name (only what this test meets)
FINGERPRINT_ROOTS = [("1.2.276.0.7230010.3.", "DCMTK")]

TAG_COMMAND_FIELD = 0x00000100
TAG_MOVE_DESTINATION = 0x00000600
TAG_STATUS = 0x00000900
TAG_MOVE_ORIGINATOR = 0x00001030

TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10
MAX_LINES_PER_FIELD = 8  # mismatch lines per association and field before "... N more"

# ----------------------------------------------------------------- profile
# The manypc scenario's storescu profile: 30 image storage SOP classes x 3
# contexts (uncompressed / JPEG baseline / JPEG lossless), 29 non-image
# storage SOP classes x 1 (uncompressed), and one UUID-derived abstract
# syntax nobody supports: 120 contexts, ids 1..239.
TS_GROUPS = {
    "Uncompressed": ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2"],
    "JPEGBaseline": ["1.2.840.10008.1.2.4.50"],
    "JPEGLossless": ["1.2.840.10008.1.2.4.70"],
}
_ST = "1.2.840.10008.5.1.4.1.1."
PROFILE_IMAGE = [_ST + s for s in (
    "1", "1.1", "1.1.1", "1.2", "1.2.1", "1.3", "1.3.1", "2", "2.1", "3.1", "4", "4.1", "6.1",
    "6.2", "7", "7.1", "7.2", "7.3", "7.4", "12.1", "12.1.1", "12.2", "12.2.1", "13.1.3", "20",
    "77.1.1", "77.1.2", "77.1.4", "128", "481.1")]
PROFILE_OTHER = [_ST + s for s in (
    "9.1.1", "9.1.2", "9.1.3", "9.2.1", "9.3.1", "9.4.1", "11.1", "11.2", "11.3", "11.4", "66",
    "66.1", "66.2", "66.4", "67", "88.11", "88.22", "88.33", "88.59", "88.67", "104.1", "481.2",
    "481.3", "481.4", "481.5", "481.6", "481.7", "481.8", "481.9")]
PROFILE_UNKNOWN = "2.25.329800735698586629295641978511506172918"


def profile_contexts():
    """[(abstract syntax, transfer syntax group), ...] in proposal order."""
    pcs = []
    for a in PROFILE_IMAGE:
        pcs += [(a, "Uncompressed"), (a, "JPEGBaseline"), (a, "JPEGLossless")]
    pcs += [(a, "Uncompressed") for a in PROFILE_OTHER]
    pcs.append((PROFILE_UNKNOWN, "Uncompressed"))
    return pcs


PROFILE_SIZE = len(profile_contexts())


def cmd_profile(a):
    lines = ["# generated by tests/e2e/check_assoc.py profile: %d presentation contexts"
             % PROFILE_SIZE, "", "[[TransferSyntaxes]]"]
    for g, tss in TS_GROUPS.items():
        lines.append("[%s]" % g)
        lines += ["TransferSyntax%d = %s" % (i + 1, ts) for i, ts in enumerate(tss)]
    lines += ["", "[[PresentationContexts]]", "[%sList]" % a.name]
    for i, (ab, g) in enumerate(profile_contexts()):
        lines.append("PresentationContext%d = %s\\%s" % (i + 1, ab, g))
    lines += ["", "[[Profiles]]", "[%s]" % a.name, "PresentationContexts = %sList" % a.name, ""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    return 0


def read_profile(path):
    """Parse a DCMTK association config (as written by `profile`, numeric
    UIDs) -> [(abstract, [ts...]), ...] of its first presentation context
    list, in order."""
    section, sub = None, None
    groups, lists = {}, collections.OrderedDict()
    with open(path) as f:
        for ln in f:
            ln = ln.split("#", 1)[0].strip()
            if not ln:
                continue
            if ln.startswith("[["):
                section, sub = ln.strip("[]").lower(), None
                continue
            if ln.startswith("["):
                sub = ln.strip("[]")
                continue
            k, _, v = ln.partition("=")
            k, v = k.strip(), v.strip()
            if section == "transfersyntaxes":
                groups.setdefault(sub, []).append((int(k[len("TransferSyntax"):]), v))
            elif section == "presentationcontexts":
                lists.setdefault(sub, []).append((int(k[len("PresentationContext"):]), v))
    if not lists:
        raise ValueError("%s: no [[PresentationContexts]] list" % path)
    out = []
    for _, v in sorted(next(iter(lists.values()))):
        ab, _, g = v.partition("\\")
        out.append((ab, [ts for _, ts in sorted(groups[g])]))
    return out


# ----------------------------------------------------------------- tshark

def tshark_pdml_cmd(pcap, ports, tls_ports=(), http_ports=()):
    cmd = ["tshark", "-n", "-r", pcap]
    for p in ports:
        cmd += ["-d", "tcp.port==%d,dicom" % p]
    for p in tls_ports:
        cmd += ["-d", "tcp.port==%d,tls" % p]
    for p in http_ports:
        cmd += ["-d", "tcp.port==%d,http" % p]
    cmd += ["-o", "tcp.desegment_tcp_streams:TRUE",
            "-o", "tcp.analyze_sequence_numbers:TRUE",
            "-o", "tcp.relative_sequence_numbers:TRUE",
            "-o", "dicom.tag_tree:TRUE",       # tags as fields (dicom.tag, dicom.tag.value.*)
            "-o", "dicom.pdv_reassemble:TRUE",
            "-Y", "tcp", "-T", "pdml"]
    return cmd


def tshark_payload_cmd(pcap, ports):
    cmd = ["tshark", "-n", "-r", pcap, "--disable-protocol", "dicom",
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-o", "tcp.relative_sequence_numbers:TRUE",
           "-Y", "tcp.len > 0 && (%s)" % " || ".join("tcp.port == %d" % p for p in ports),
           "-T", "fields", "-E", "header=y", "-E", "separator=/t"]
    for f in ("tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.len", "tcp.payload"):
        cmd += ["-e", f]
    return cmd


def _hexstr(el):
    """The bytes of a PDML field as text: NULs and surrounding spaces removed."""
    v = el.get("value") or ""
    try:
        s = bytes.fromhex(v).decode("latin-1")
    except ValueError:
        s = el.get("show") or ""
    return s.replace("\0", "").strip()


def _int(el):
    return int(el.get("show"), 0)


def _kids(el):
    return {k.get("name"): k for k in el}


def pdml_dicom(proto):
    """One <proto name="dicom"> (one PDU) -> dict."""
    names = {}
    for el in proto.iter("field"):
        names.setdefault(el.get("name"), el)
    if "dicom.pdu.type" not in names:
        return None
    t = _int(names["dicom.pdu.type"])
    pdu = {"type": t}
    if t in (1, 2):
        for k, f in (("called", "dicom.assoc.ae.called"), ("calling", "dicom.assoc.ae.calling")):
            if f in names:
                pdu[k] = _hexstr(names[f])
        pcs = []
        for item in proto.iter("field"):
            kids = _kids(item)
            if "dicom.pctx.id" not in kids:
                continue
            pc = {"id": _int(kids["dicom.pctx.id"]), "abstract": None, "ts": []}
            if "dicom.pctx.result" in kids:
                pc["result"] = _int(kids["dicom.pctx.result"])
            for sub in item.iter("field"):
                n = sub.get("name")
                if n == "dicom.pctx.abss.syntax":
                    pc["abstract"] = _hexstr(sub)
                elif n == "dicom.pctx.xfer.syntax":
                    pc["ts"].append(_hexstr(sub))
            pcs.append(pc)
        pdu["pcs"] = pcs
        if "dicom.userinfo.uid" in names:
            pdu["impl_uid"] = _hexstr(names["dicom.userinfo.uid"])
        if "dicom.userinfo.version" in names:
            pdu["impl_version"] = _hexstr(names["dicom.userinfo.version"])
        if "dicom.max_pdu_len" in names:
            pdu["max_pdu"] = _int(names["dicom.max_pdu_len"])
    elif t == 3:
        for k in ("result", "source", "reason"):
            f = "dicom.assoc.reject." + k
            if f in names:
                pdu[k] = _int(names[f])
    elif t == 7:
        for k in ("source", "reason"):
            f = "dicom.assoc.abort." + k
            if f in names:
                pdu[k] = _int(names[f])
    elif t == 4:
        pdvs = []
        for item in proto.iter("field"):
            kids = _kids(item)
            if "dicom.pdv.flags" not in kids:
                continue
            pdv = {"ctx": _int(kids["dicom.pdv.ctx"]) if "dicom.pdv.ctx" in kids else None,
                   "flags": _int(kids["dicom.pdv.flags"])}
            if pdv["flags"] & 1:  # command: keep the command elements
                tags = {}
                for tnode in item:
                    tk = _kids(tnode)
                    if "dicom.tag" not in tk:
                        continue
                    tag = _int(tk["dicom.tag"])
                    if tag >> 16:
                        continue
                    for vf in ("dicom.tag.value.16u", "dicom.tag.value.32u"):
                        if vf in tk:
                            tags["%08x" % tag] = _int(tk[vf])
                            break
                    else:
                        if "dicom.tag.value.str" in tk:
                            tags["%08x" % tag] = _hexstr(tk["dicom.tag.value.str"])
                pdv["tags"] = tags
            pdvs.append(pdv)
        pdu["pdvs"] = pdvs
    return pdu


def _num(el):
    try:
        return int(el.get("show"), 0)
    except (TypeError, ValueError):
        return None


def pdml_tls(proto, tls):
    """Hello types and versions of one <proto name="tls"> into tls."""
    for el in proto.iter("field"):
        n, v = el.get("name"), _num(el)
        if v is None:
            continue
        if n == "tls.handshake.type":
            tls.setdefault("hs", []).append(v)
        elif n == "tls.handshake.extensions.supported_version":
            tls.setdefault("sv", []).append(v)
        elif n == "tls.handshake.version":
            tls.setdefault("hv", []).append(v)


def pdml_http(proto, http):
    for el in proto.iter("field"):
        n = el.get("name")
        if n in ("http.request.method", "http.request.uri") and n not in http:
            http[n[len("http.request."):]] = el.get("show")
        elif n == "http.response.code" and "status" not in http:
            http["status"] = _num(el)


def pdml_packet(pkt):
    """<packet> -> frame record (None if not TCP). Keys beyond the TCP ones
    only where present: pdus, segments, vlan (ids, outer first), tls (hello
    types "hs", supported_versions "sv", hello versions "hv"), http."""
    rec = {"pdus": []}
    fields = {}
    vlan, tls, http = [], {}, {}
    for proto in pkt:
        pname = proto.get("name")
        if pname == "dicom":
            d = pdml_dicom(proto)
            if d is not None:
                rec["pdus"].append(d)
            continue
        if pname == "vlan":
            vlan += [_num(el) for el in proto.iter("field") if el.get("name") == "vlan.id"]
            continue
        if pname == "tls":
            pdml_tls(proto, tls)
            continue
        if pname == "http":
            pdml_http(proto, http)
            continue
        # tcp.segments (the segments a reassembled PDU came from) sits in
        # tshark's "fake-field-wrapper" pseudo-protocol
        if pname not in ("frame", "ip", "ipv6", "tcp", "fake-field-wrapper"):
            continue
        for el in proto.iter("field"):
            n = el.get("name")
            if n and n not in fields:
                fields[n] = el
    if "tcp.stream" not in fields:
        return None

    def show(n, default=None):
        return fields[n].get("show") if n in fields else default

    rec.update({
        "frame": int(show("frame.number", "0")),
        "time": float(show("frame.time_relative", "0")),
        "stream": int(show("tcp.stream")),
        "src": show("ip.src", show("ipv6.src")), "sport": int(show("tcp.srcport")),
        "dst": show("ip.dst", show("ipv6.dst")), "dport": int(show("tcp.dstport")),
        "flags": int(show("tcp.flags", "0"), 0),
        "seq": int(show("tcp.seq", "0")),
        "len": int(show("tcp.len", "0")),
        "retrans": "tcp.analysis.retransmission" in fields or "tcp.analysis.out_of_order" in fields,
        "lost": "tcp.analysis.lost_segment" in fields,
    })
    if "tcp.segment.count" in fields:
        rec["segments"] = int(show("tcp.segment.count"))
    if not rec["pdus"]:
        del rec["pdus"]
    if vlan:
        rec["vlan"] = vlan
    if tls:
        rec["tls"] = tls
    if http:
        rec["http"] = http
    return rec


def read_ports_file(path):
    """"PROTO PORT..." lines (# comments) -> {"dicom": [...], "tls": [...], "http": [...]}"""
    out = {"dicom": [], "tls": [], "http": []}
    with open(path) as f:
        for n, ln in enumerate(f, 1):
            ln = ln.split("#", 1)[0].split()
            if not ln:
                continue
            if ln[0] not in out:
                raise SystemExit("%s:%d: unknown protocol %r (dicom, tls, http)" % (path, n, ln[0]))
            out[ln[0]] += [int(p) for p in ",".join(ln[1:]).split(",") if p]
    return out


def cmd_extract(a):
    if a.ports_file:
        pf = read_ports_file(a.ports_file)
        ports, tls_ports, http_ports = pf["dicom"], pf["tls"], pf["http"]
    else:
        ports, tls_ports, http_ports = parse_ports(a.ports), parse_ports(a.tls_ports), parse_ports(a.http_ports)
    proc = subprocess.Popen(tshark_pdml_cmd(a.pcap, ports, tls_ports, http_ports), stdout=subprocess.PIPE)
    n = 0
    with open(a.out, "w") as out:
        for ev, el in ET.iterparse(proc.stdout, events=("end",)):
            if el.tag != "packet":
                continue
            rec = pdml_packet(el)
            el.clear()
            if rec is not None:
                out.write(json.dumps(rec, sort_keys=True) + "\n")
                n += 1
    if proc.wait() != 0:
        raise SystemExit("tshark -T pdml failed with status %d" % proc.returncode)
    if a.payload_out:
        with open(a.payload_out, "w") as out:
            if ports:
                subprocess.run(tshark_payload_cmd(a.pcap, ports), stdout=out, check=True)
    print("extract: %d TCP frames" % n, file=sys.stderr)
    return 0


def ep(addr, port):
    """ADDR:PORT, [ADDR]:PORT for IPv6."""
    return ("[%s]:%s" if ":" in str(addr) else "%s:%s") % (addr, port)


def parse_ports(s):
    return [int(p) for p in str(s).split(",") if p.strip()]


def read_tsv(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    if not lines:
        return []
    header = lines[0].split("\t")
    rows = []
    for ln in lines[1:]:
        if not ln.strip():
            continue
        vals = ln.split("\t")
        vals += [""] * (len(header) - len(vals))
        rows.append(dict(zip(header, vals)))
    return rows


def read_jsonl(path):
    out = []
    with open(path) as f:
        for ln in f:
            if ln.strip():
                out.append(json.loads(ln))
    return out


# ----------------------------------------------------------------- the model

def status_class(v):
    if v == 0x0000:
        return "success"
    if v in (0xFF00, 0xFF01):
        return "pending"
    if v == 0xFE00:
        return "cancel"
    if v == 0x0001 or (v & 0xF000) == 0xB000 or v in (0x0107, 0x0116):
        return "warning"
    return "failure"


def fingerprint_of(uid):
    for root, name in FINGERPRINT_ROOTS:
        if uid and uid.startswith(root):
            return name
    return None


class Assoc:
    """What one source (tshark's dissector or the raw decode) saw of one
    association (one TCP connection)."""

    def __init__(self):
        self.pdus = {"orig": collections.Counter(), "reply": collections.Counter()}
        self.rq = None
        self.ac = None
        self.rj = None
        self.abort = None
        self.abort_dir = None
        self.commands = collections.Counter()
        self.statuses = collections.Counter()
        self.last_status = None
        self.move_destinations = []
        self.move_originators = []
        self.rq_segments = None

    def add_pdu(self, d, p):
        self.pdus[d][PDU_NAMES.get(p["type"], "type-0x%02x" % p["type"])] += 1
        t = p["type"]
        if t == 1 and d == "orig" and self.rq is None:
            self.rq = p
        elif t == 2 and d == "reply" and self.ac is None:
            self.ac = p
        elif t == 3 and self.rj is None:
            self.rj = p
        elif t == 7 and self.abort is None:
            self.abort, self.abort_dir = p, d

    def add_command(self, tags):
        cf = tags.get("%08x" % TAG_COMMAND_FIELD)
        if cf is None:
            self.commands["(no command field)"] += 1
            return
        name = COMMANDS.get(cf, "0x%04x" % cf)
        self.commands[name] += 1
        st = tags.get("%08x" % TAG_STATUS)
        if cf & 0x8000 and st is not None:
            self.statuses[status_class(st)] += 1
            self.last_status = status_class(st)
        if cf == 0x0021:
            md = tags.get("%08x" % TAG_MOVE_DESTINATION)
            if md and md not in self.move_destinations:
                self.move_destinations.append(md)
        if cf == 0x0001:
            mo = tags.get("%08x" % TAG_MOVE_ORIGINATOR)
            if mo and mo not in self.move_originators:
                self.move_originators.append(mo)

    # ---- derived, in dicomon's vocabulary
    def outcome(self):
        if self.rj is not None:
            return "rejected"
        if self.abort is not None:
            return "aborted"
        if self.pdus["reply"]["A-RELEASE-RP"] or self.pdus["orig"]["A-RELEASE-RP"]:
            return "released"
        if self.ac is not None:
            return "accepted"
        return "incomplete"

    def contexts(self):
        """[{id, abstract_syntax, transfer_syntaxes, result, accepted_transfer_syntax}]"""
        if self.rq is None:
            return []
        ac = {pc["id"]: pc for pc in (self.ac or {}).get("pcs", [])}
        out = []
        for pc in self.rq.get("pcs", []):
            r = ac.get(pc["id"])
            res = None if r is None else PC_RESULTS.get(r.get("result"), "reserved-%s" % r.get("result"))
            ts = None
            if r is not None and r.get("result") == 0 and r.get("ts"):
                ts = r["ts"][0]
            out.append({"id": pc["id"], "abstract_syntax": pc["abstract"],
                        "transfer_syntaxes": list(pc["ts"]), "result": res,
                        "accepted_transfer_syntax": ts})
        return out

    def implementation(self):
        def side(p):
            p = p or {}
            return {"class_uid": p.get("impl_uid"), "version": p.get("impl_version")}
        return {"orig": side(self.rq), "reply": side(self.ac)}

    def max_pdu(self):
        return {"orig": (self.rq or {}).get("max_pdu"), "reply": (self.ac or {}).get("max_pdu")}

    def reject(self):
        if self.rj is None:
            return None
        r, s, n = self.rj.get("result"), self.rj.get("source"), self.rj.get("reason")
        return {"result": r, "source": s, "reason": n,
                "reason_name": RJ_REASONS.get(s, {}).get(n)}

    def abort_info(self):
        if self.abort is None:
            return None
        s, n = self.abort.get("source"), self.abort.get("reason")
        return {"source": s, "reason": n,
                "reason_name": ABORT_REASONS.get(n) if s == 2 else None}


class Conn:
    def __init__(self, stream):
        self.stream = stream
        self.first_time = None
        self.client = None
        self.server = None
        self.syn_seen = False
        self.lost = 0
        self.retrans = 0
        self.ts = Assoc()    # tshark's dissector
        self.raw = None      # independent decode of the raw payload (optional)
        self.first_frame = None
        self.frames = set()  # frame numbers of the connection's TCP segments
        self.fin_rst = 0     # segments with FIN or RST
        self.payload = {"orig": 0, "reply": 0}  # tcp.len, retransmissions included
        self.vlans = set()   # VLAN id tuples (outer first) seen on the frames
        self.tls_hellos = {"orig": [], "reply": []}  # {"hs","sv","hv"} of hello frames
        self.http = []       # (method, uri) of the requests, orig direction
        self.http_status = []

    def direction(self, src, sport):
        return "orig" if (src, sport) == self.client else "reply"

    def tls_versions(self):
        """(offered, selected) as dicomon names them: the highest non-GREASE
        supported_versions value of the ClientHello, else its version; the
        ServerHello's supported_versions, else its version."""
        def pick(d, hs_type, highest):
            for h in self.tls_hellos[d]:
                if hs_type not in h.get("hs", []):
                    continue
                sv = [v for v in h.get("sv", []) if (v & 0x0F0F) != 0x0A0A]
                if sv:
                    return tls_name(max(sv) if highest else sv[0])
                if h.get("hv"):
                    return tls_name(h["hv"][0])
            return None
        return pick("orig", 1, True), pick("reply", 2, False)


TLS_NAMES = {0x0300: "SSL3.0", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2", 0x0304: "TLS1.3"}


def tls_name(v):
    return TLS_NAMES.get(v, "0x%04x" % v)


def build_conns(frames, ports):
    conns = {}
    for r in frames:
        sid = r["stream"]
        c = conns.get(sid)
        if c is None:
            c = conns[sid] = Conn(sid)
            c.first_time = r["time"]
        if r["flags"] & TCP_SYN and not r["flags"] & TCP_ACK:
            c.client, c.server, c.syn_seen = (r["src"], r["sport"]), (r["dst"], r["dport"]), True
        if c.client is None:
            if r["dport"] in ports:
                c.client, c.server = (r["src"], r["sport"]), (r["dst"], r["dport"])
            elif r["sport"] in ports:
                c.client, c.server = (r["dst"], r["dport"]), (r["src"], r["sport"])
            else:
                continue
        d = c.direction(r["src"], r["sport"])
        if c.first_frame is None:
            c.first_frame = r["frame"]
        c.frames.add(r["frame"])
        if r["flags"] & (TCP_FIN | TCP_RST):
            c.fin_rst += 1
        c.payload[d] += r.get("len", 0)
        if r.get("vlan"):
            c.vlans.add(tuple(r["vlan"]))
        if r.get("tls", {}).get("hs"):
            c.tls_hellos[d].append(r["tls"])
        h = r.get("http")
        if h:
            if d == "orig" and "method" in h:
                c.http.append((h["method"], h.get("uri")))
            if d == "reply" and h.get("status") is not None:
                c.http_status.append(h["status"])
        if r.get("lost"):
            c.lost += 1
        if r.get("retrans"):
            c.retrans += 1
        for p in r.get("pdus", []):
            c.ts.add_pdu(d, p)
            if p["type"] == 1 and d == "orig" and c.ts.rq is p:
                c.ts.rq_segments = r.get("segments", 1)
            for pdv in p.get("pdvs", []):
                if pdv["flags"] & 1 and pdv["flags"] & 2:  # last fragment of a command
                    c.ts.add_command(pdv.get("tags", {}))
    return conns


# ---------------------------------------------------------- raw PS3.8 decode

def _ascii(b):
    return b.decode("latin-1").replace("\0", "").strip()


def decode_assoc_items(body):
    """Items of an A-ASSOCIATE-RQ/AC after the 68-byte fixed part."""
    p = {"pcs": []}
    pos = 0
    while pos + 4 <= len(body):
        it, ln = body[pos], int.from_bytes(body[pos + 2:pos + 4], "big")
        v = body[pos + 4:pos + 4 + ln]
        pos += 4 + ln
        if it in (0x20, 0x21) and len(v) >= 4:
            pc = {"id": v[0], "abstract": None, "ts": []}
            if it == 0x21:
                pc["result"] = v[2]
            q = 4
            while q + 4 <= len(v):
                st, sl = v[q], int.from_bytes(v[q + 2:q + 4], "big")
                sv = v[q + 4:q + 4 + sl]
                q += 4 + sl
                if st == 0x30:
                    pc["abstract"] = _ascii(sv)
                elif st == 0x40:
                    pc["ts"].append(_ascii(sv))
            p["pcs"].append(pc)
        elif it == 0x50:
            q = 0
            while q + 4 <= len(v):
                st, sl = v[q], int.from_bytes(v[q + 2:q + 4], "big")
                sv = v[q + 4:q + 4 + sl]
                q += 4 + sl
                if st == 0x51 and sl == 4:
                    p["max_pdu"] = int.from_bytes(sv, "big")
                elif st == 0x52:
                    p["impl_uid"] = _ascii(sv)
                elif st == 0x55:
                    p["impl_version"] = _ascii(sv)
    return p


def decode_command(data):
    """Implicit VR LE command set -> {"%08x" tag: int|str} for the elements
    this checker uses."""
    tags = {}
    pos = 0
    while pos + 8 <= len(data):
        g = int.from_bytes(data[pos:pos + 2], "little")
        e = int.from_bytes(data[pos + 2:pos + 4], "little")
        ln = int.from_bytes(data[pos + 4:pos + 8], "little")
        v = data[pos + 8:pos + 8 + ln]
        pos += 8 + ln
        tag = (g << 16) | e
        if tag in (TAG_COMMAND_FIELD, TAG_STATUS) and ln == 2:
            tags["%08x" % tag] = int.from_bytes(v, "little")
        elif tag in (TAG_MOVE_DESTINATION, TAG_MOVE_ORIGINATOR):
            tags["%08x" % tag] = _ascii(v)
    return tags


def decode_stream(buf, d, a):
    """Walk the PDUs of one direction's byte stream into Assoc a."""
    pos = 0
    cmd = collections.defaultdict(bytearray)  # pc id -> command fragments so far
    while pos + 6 <= len(buf):
        t = buf[pos]
        ln = int.from_bytes(buf[pos + 2:pos + 6], "big")
        body = bytes(buf[pos + 6:pos + 6 + ln])
        if pos == 0 and d == "orig":
            a.rq_end = 6 + ln
        pos += 6 + ln
        p = {"type": t}
        if t in (1, 2) and len(body) >= 68:
            p["called"] = _ascii(body[4:20])
            p["calling"] = _ascii(body[20:36])
            p.update(decode_assoc_items(body[68:]))
        elif t == 3 and len(body) >= 4:
            p.update(result=body[1], source=body[2], reason=body[3])
        elif t == 7 and len(body) >= 4:
            p.update(source=body[2], reason=body[3])
        elif t == 4:
            q = 0
            while q + 6 <= len(body):
                il = int.from_bytes(body[q:q + 4], "big")
                ctx, mch = body[q + 4], body[q + 5]
                frag = body[q + 6:q + 4 + il]
                q += 4 + il
                if mch & 1:
                    cmd[ctx] += frag
                    if mch & 2:
                        a.add_command(decode_command(bytes(cmd.pop(ctx))))
        a.add_pdu(d, p)
    if pos != len(buf):
        a.pdus[d]["(trailing %d bytes)" % (len(buf) - pos)] += 1


def walk_payload(rows, conns):
    """Independent decode: rebuild each direction's stream from the raw
    segments (placed by relative sequence number) and decode PS3.8/PS3.7."""
    streams = collections.defaultdict(dict)
    segs_of = collections.defaultdict(list)
    for r in rows:
        sid = int(r["tcp.stream"])
        c = conns.get(sid)
        if c is None or c.client is None or not r.get("tcp.payload"):
            continue
        d = "orig" if int(r["tcp.srcport"]) == c.client[1] else "reply"
        data = bytes.fromhex(r["tcp.payload"].replace(":", ""))
        seq = int(r["tcp.seq"])
        streams[(sid, d)][seq] = data
        segs_of[(sid, d)].append((seq, len(data)))
    for c in conns.values():
        if c.client is not None:
            c.raw = Assoc()
    for (sid, d), segs in sorted(streams.items()):
        buf = bytearray()
        base = min(segs)
        for seq in sorted(segs):
            off, data = seq - base, segs[seq]
            if off + len(data) > len(buf):
                buf[off:] = data if off <= len(buf) else bytes(off - len(buf)) + data
        a = conns[sid].raw
        decode_stream(buf, d, a)
        if d == "orig" and getattr(a, "rq_end", None):
            end = base + a.rq_end
            a.rq_segments = len({s for s, n in segs_of[(sid, d)] if s < end and s + n > base})


# ----------------------------------------------------------------- manifest

def read_manifest(path):
    rows = read_tsv(path)
    for r in rows:
        r["dport"] = int(r["dport"])
        r["tool_ok"] = r["tool_ok"] == "1"
        try:
            r["expect"] = json.loads(r.get("expect") or "{}")
        except ValueError as e:
            raise SystemExit("manifest row %s: expect is not JSON: %s" % (r["name"], e))
    return rows


def row_kind(row):
    """"assoc" (a DICOM association tshark decodes), "tls" or "http"."""
    x = row["expect"]
    if x.get("kind") == "http":
        return "http"
    if x.get("transport") == "tls":
        return "tls"
    return "assoc"


def pair(manifest, conns):
    """Pair manifest rows with TCP connections in start order, on
    (initiator address, service port); rows with "pair_on":"called_ae"
    first, on the called AE title of the connection's A-ASSOCIATE-RQ.
    Connections without payload (port probes, see port_probes) are left out.
    -> ([(row, conn or None)] in manifest order, problems)"""
    cands = sorted((c for c in conns.values() if c.client is not None and not is_probe(c)),
                   key=lambda c: c.first_time)
    used = set()
    hits = {}
    keyed = [i for i, row in enumerate(manifest) if row["expect"].get("pair_on") == "called_ae"]
    rest = [i for i in range(len(manifest)) if i not in set(keyed)]
    for i in keyed + rest:
        row = manifest[i]
        hit = None
        for c in cands:
            if c.stream in used:
                continue
            if c.client[0] != row["initiator"] or c.server[1] != row["dport"]:
                continue
            if i in keyed and (c.ts.rq or {}).get("called") != row["called_ae"]:
                continue
            hit = c
            break
        if hit is not None:
            used.add(hit.stream)
            # connections of the same kind that started before this one and
            # were skipped are reported as unexpected below
        hits[i] = hit
    pairs = [(row, hits[i]) for i, row in enumerate(manifest)]
    svc_ports = {row["dport"] for row in manifest}
    extra = [c for c in cands if c.stream not in used and c.server[1] in svc_ports]
    problems = []
    if extra:
        problems.append("capture has %d connection(s) the manifest does not describe: %s" % (
            len(extra), ", ".join("%s -> %s" % (ep(*c.client), ep(*c.server)) for c in extra)))
    return pairs, problems


def is_probe(c):
    return not c.payload["orig"] and not c.payload["reply"]


def port_probes(manifest, conns):
    """TCP connections to a manifest's service port that carried no payload
    (a scanner's SYN, a reachability check): no association, not paired."""
    svc_ports = {row["dport"] for row in manifest}
    return sorted((c for c in conns.values() if c.client is not None and is_probe(c)
                   and c.server[1] in svc_ports), key=lambda c: c.first_time)


# ----------------------------------------------------------------- formatting

def fmt_pdus(cnt):
    if not cnt:
        return "-"
    order = list(PDU_NAMES.values())
    keys = sorted(cnt, key=lambda k: order.index(k) if k in order else 99)
    return " ".join("%s%d" % (PDU_SHORT.get(k, k), cnt[k]) for k in keys if cnt[k])


def fmt_counts(cnt):
    cnt = {k: v for k, v in (cnt or {}).items() if v}
    return ",".join("%s=%s" % (k, cnt[k] if type(cnt[k]) is int else repr(cnt[k]))
                    for k in sorted(cnt, key=str)) or "-"


def capped(lines, what):
    if len(lines) <= MAX_LINES_PER_FIELD:
        return lines
    return lines[:MAX_LINES_PER_FIELD] + ["%s: ... and %d more" % (what, len(lines) - MAX_LINES_PER_FIELD)]


def compare_contexts(got, exp, label):
    """Lists of context dicts (dicomon vocabulary), by id. -> problem lines"""
    p = []
    if not isinstance(got, list):
        return ["%s: got %r, expected a list of %d contexts" % (label, got, len(exp))]
    gids = [g.get("id") if isinstance(g, dict) else g for g in got]
    eids = [e["id"] for e in exp]
    if len(got) != len(exp):
        p.append("%s: got %d contexts, expected %d" % (label, len(got), len(exp)))
    if gids != eids and sorted(x for x in gids if isinstance(x, int)) == sorted(eids):
        k = next(i for i, (g, x) in enumerate(zip(gids, eids)) if g != x)
        p.append("%s: not in RQ order: from position %d ids %s, expected %s"
                 % (label, k, gids[k:k + 4], eids[k:k + 4]))
    byid = {}
    for g in got:
        if isinstance(g, dict) and g.get("id") not in byid:
            byid[g.get("id")] = g
    missing = [i for i in eids if i not in byid]
    if missing:
        p.append("%s: context id(s) %s missing" % (label, missing if len(missing) <= 12
                                                   else "%s... (%d)" % (missing[:12], len(missing))))
    extra = [i for i in byid if i not in set(eids)]
    if extra:
        p.append("%s: unexpected context id(s) %s" % (label, extra[:12]))
    field_lines = []
    for e in exp:
        g = byid.get(e["id"])
        if g is None:
            continue
        pre = "%s[id %d]" % (label, e["id"])
        if g.get("abstract_syntax") != e["abstract_syntax"]:
            field_lines.append("%s.abstract_syntax: got %r, expected %r"
                               % (pre, g.get("abstract_syntax"), e["abstract_syntax"]))
        gts = g.get("transfer_syntaxes")
        if not isinstance(gts, list) or set(gts) != set(e["transfer_syntaxes"]) \
                or len(gts) != len(e["transfer_syntaxes"]):
            field_lines.append("%s.transfer_syntaxes: got %r, expected %r"
                               % (pre, gts, e["transfer_syntaxes"]))
        if g.get("result", "<absent>") != e["result"]:
            field_lines.append("%s.result: got %r, expected %r" % (pre, g.get("result", "<absent>"), e["result"]))
        if g.get("accepted_transfer_syntax", "<absent>") != e["accepted_transfer_syntax"]:
            field_lines.append("%s.accepted_transfer_syntax: got %r, expected %r"
                               % (pre, g.get("accepted_transfer_syntax", "<absent>"),
                                  e["accepted_transfer_syntax"]))
    return p + capped(field_lines, label)


def counts_equal(got, exp):
    if not isinstance(got, dict):
        return False
    g = {k: v for k, v in got.items() if v}
    e = {k: v for k, v in exp.items() if v}
    return g == e and all(type(v) is int for v in g.values())


# ----------------------------------------------------------------- truth checks

def truth_problems(row, c, profile):
    """The ground truth itself versus what the tools were told (`expect`)."""
    p = []
    x = row["expect"]
    if not row["tool_ok"]:
        tool = (row["note"].split() or [""])[0]
        p.append("%s: %s" % ("tool (%s)" % tool if tool in NON_DCMTK_TOOLS else "DCMTK tool", row["note"]))
    if c is None:
        p.append("no TCP connection %s -> port %d in the capture" % (row["initiator"], row["dport"]))
        return p
    t = c.ts
    if not c.syn_seen:
        p.append("capture missed the SYN")
    if c.lost:
        p.append("capture lost %d segment(s): ground truth incomplete" % c.lost)
    if "vlan" in x:
        want = {tuple(x["vlan"])}
        if c.vlans != want:
            p.append("tshark: VLAN tags %s on the connection's frames, expected %s"
                     % (sorted(c.vlans) or "none", sorted(want)))
    if x.get("open_at_end") and c.fin_rst:
        p.append("the association should be open when the capture ends, but it has %d FIN/RST segment(s)"
                 % c.fin_rst)
    kind = row_kind(row)
    if kind == "http":
        return p + http_truth_problems(x, c)
    if kind == "tls":
        return p + tls_truth_problems(x, c)
    if t.pdus["orig"]["A-ASSOCIATE-RQ"] != 1:
        p.append("tshark: %d A-ASSOCIATE-RQ from the initiator, expected 1" % t.pdus["orig"]["A-ASSOCIATE-RQ"])
    if t.rq is not None and (t.rq.get("calling"), t.rq.get("called")) != (row["calling_ae"], row["called_ae"]):
        p.append("tshark: RQ calling/called %r/%r, the tool was told %r/%r"
                 % (t.rq.get("calling"), t.rq.get("called"), row["calling_ae"], row["called_ae"]))
    if "outcome" in x and t.outcome() != x["outcome"]:
        p.append("tshark: outcome %s, expected %s (orig {%s} reply {%s})"
                 % (t.outcome(), x["outcome"], fmt_pdus(t.pdus["orig"]), fmt_pdus(t.pdus["reply"])))
    pcs = t.contexts()
    if "abstract_syntaxes_include" in x:
        missing = sorted(set(x["abstract_syntaxes_include"]) - {pc["abstract_syntax"] for pc in pcs})
        if missing:
            p.append("tshark: abstract syntaxes %s not proposed" % missing)
    if "abstract_syntaxes" in x:
        got = {pc["abstract_syntax"] for pc in pcs}
        want = set(x["abstract_syntaxes"])
        if got != want:
            p.append("tshark: proposed abstract syntaxes differ from %s: unexpected %s, missing %s"
                     % (sorted(want), sorted(got - want)[:5] + (["..."] if len(got - want) > 5 else []),
                        sorted(want - got)))
    if x.get("proposed") == "profile":
        if profile is None:
            p.append("expect.proposed = profile, but no --profile given")
        else:
            want = [(2 * i + 1, ab, ts) for i, (ab, ts) in enumerate(profile)]
            got = [(pc["id"], pc["abstract_syntax"], pc["transfer_syntaxes"]) for pc in pcs]
            if got != want:
                diff = [w for w in want if w not in got][:3]
                p.append("tshark: RQ contexts differ from the storescu profile (%d vs %d contexts; "
                         "first missing: %s)" % (len(got), len(want), diff))
    if "min_contexts" in x and len(pcs) < x["min_contexts"]:
        p.append("tshark: %d presentation contexts, expected at least %d" % (len(pcs), x["min_contexts"]))
    if "min_rq_segments" in x:
        segs = t.rq_segments or 0
        if c.raw is not None and c.raw.rq_segments is not None:
            segs = max(segs, c.raw.rq_segments)
        if segs < x["min_rq_segments"]:
            p.append("A-ASSOCIATE-RQ spans %d TCP segment(s), expected at least %d"
                     % (segs, x["min_rq_segments"]))
    if t.outcome() in ("released", "aborted", "accepted"):
        if not any(pc["result"] == "acceptance" for pc in pcs):
            p.append("tshark: the AC accepts no presentation context")
        for side in ("orig", "reply"):
            if not t.implementation()[side]["class_uid"]:
                p.append("tshark: no implementation class UID from %s" % side)
    if "reject" in x:
        rj = t.reject()
        got = None if rj is None else [rj["result"], rj["source"], rj["reason"]]
        if got != x["reject"]:
            p.append("tshark: A-ASSOCIATE-RJ result/source/reason %s, expected %s" % (got, x["reject"]))
    if "abort_source" in x:
        ab = t.abort_info()
        if ab is None or ab["source"] != x["abort_source"]:
            p.append("tshark: A-ABORT %s, expected source %d" % (ab, x["abort_source"]))
    if "commands" in x and dict(+t.commands) != {k: v for k, v in x["commands"].items() if v}:
        want_cmd = {k: v for k, v in x["commands"].items() if v}
        # "commands" lists requests exactly; responses too unless final_status is used
        if "final_status" in x:
            reqs = {k: v for k, v in t.commands.items() if k.endswith("-RQ")}
            if reqs != want_cmd:
                p.append("tshark: requests %s, expected %s" % (fmt_counts(reqs), fmt_counts(want_cmd)))
        else:
            p.append("tshark: commands %s, expected %s" % (fmt_counts(t.commands), fmt_counts(want_cmd)))
    if "statuses" in x and dict(+t.statuses) != {k: v for k, v in x["statuses"].items() if v}:
        p.append("tshark: statuses %s, expected %s" % (fmt_counts(t.statuses), fmt_counts(x["statuses"])))
    if "final_status" in x:
        if t.last_status != x["final_status"]:
            p.append("tshark: last response status %s, expected %s" % (t.last_status, x["final_status"]))
        bad = {k: v for k, v in t.statuses.items() if k not in ("pending", x["final_status"])}
        if bad:
            p.append("tshark: unexpected statuses %s" % fmt_counts(bad))
    for k in ("move_destinations", "move_originators"):
        if k in x and sorted(getattr(t, k)) != sorted(x[k]):
            p.append("tshark: %s %s, expected %s" % (k, getattr(t, k), x[k]))
    # the independent decode must agree with the dissector
    if c.raw is not None:
        r = c.raw
        if t.rq_segments is not None and r.rq_segments is not None and t.rq_segments != r.rq_segments:
            p.append("tshark reassembled the RQ from %d segment(s), the raw walk finds %d"
                     % (t.rq_segments, r.rq_segments))
        for label, a, b in (
                ("PDUs orig", fmt_pdus(t.pdus["orig"]), fmt_pdus(r.pdus["orig"])),
                ("PDUs reply", fmt_pdus(t.pdus["reply"]), fmt_pdus(r.pdus["reply"])),
                ("presentation contexts", t.contexts(), r.contexts()),
                ("implementation", t.implementation(), r.implementation()),
                ("max_pdu", t.max_pdu(), r.max_pdu()),
                ("commands", fmt_counts(t.commands), fmt_counts(r.commands)),
                ("statuses", fmt_counts(t.statuses), fmt_counts(r.statuses)),
                ("reject", t.reject(), r.reject()),
                ("abort", t.abort_info(), r.abort_info()),
                ("move_destinations", t.move_destinations, r.move_destinations),
                ("move_originators", t.move_originators, r.move_originators)):
            if a != b:
                p.append("tshark dissector and raw decode disagree on %s: %s vs %s"
                         % (label, str(a)[:200], str(b)[:200]))
    return p


NON_DCMTK_TOOLS = ("nmap", "curl", "socat", "openssl")


def http_truth_problems(x, c):
    p = []
    want = [(x.get("method"), x.get("uri"))]
    if c.http != want:
        p.append("tshark: HTTP request(s) %s, expected %s" % (c.http, want))
    if "status" in x and c.http_status != [x["status"]]:
        p.append("tshark: HTTP status %s, expected [%s]" % (c.http_status, x["status"]))
    if +c.ts.pdus["orig"] or +c.ts.pdus["reply"]:
        p.append("tshark decoded DICOM PDUs in an HTTP connection")
    return p


def tls_truth_problems(x, c):
    """A TLS association: tshark sees the hellos, not the DICOM inside."""
    p = []
    if +c.ts.pdus["orig"] or +c.ts.pdus["reply"]:
        p.append("tshark decoded DICOM PDUs {%s | %s} on a TLS connection"
                 % (fmt_pdus(c.ts.pdus["orig"]), fmt_pdus(c.ts.pdus["reply"])))
    hs = {d: [t for h in c.tls_hellos[d] for t in h.get("hs", [])] for d in ("orig", "reply")}
    if 1 not in hs["orig"]:
        p.append("tshark: no TLS ClientHello from the initiator")
    if 2 not in hs["reply"]:
        p.append("tshark: no TLS ServerHello from the server")
    offered, selected = c.tls_versions()
    for k, got in (("tls_offered", offered), ("tls_selected", selected)):
        if k in x and got != x[k]:
            p.append("tshark: %s %s, expected %s" % (k, got, x[k]))
    if not c.payload["orig"] or not c.payload["reply"]:
        p.append("no payload in one direction (orig %d, reply %d bytes)" % (c.payload["orig"], c.payload["reply"]))
    return p


def tls_note(row, c):
    """What the checker cannot verify on a TLS row, said in its output."""
    told = row["expect"].get("told", {})
    what = ", ".join("%s %s" % (k, fmt_counts(v) if isinstance(v, dict) else v)
                     for k, v in told.items()) or "-"
    ver = "offered %s, selected %s" % c.tls_versions() if c is not None else "no connection"
    return ("TLS: tshark sees the handshake only (%s); calling/called AE %s/%s and what the tool "
            "was told (%s) come from the manifest, not from the wire"
            % (ver, row["calling_ae"], row["called_ae"], what))


# ----------------------------------------------------------------- events

def read_events(path):
    events, bad = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, ln in enumerate(f, 1):
            if not ln.strip():
                continue
            try:
                ev = json.loads(ln)
            except ValueError as e:
                bad.append("line %d is not JSON (%s): %.80s" % (n, e, ln.rstrip()))
                continue
            if not isinstance(ev, dict):
                bad.append("line %d is not a JSON object" % n)
                continue
            events.append(ev)
    return events, bad


def _side(v):
    """implementation.orig/reply: null or {} -> both members null."""
    if v is None:
        return {"class_uid": None, "version": None}
    if not isinstance(v, dict):
        return v
    return {"class_uid": v.get("class_uid"), "version": v.get("version")}


# `dicomon replay` names the capture file and packet of each line: Suricata's
# pcap_filename / pcap_cnt (what it prints), or pcap_file / pcap_packet.
PCAP_FILE_KEYS = ("pcap_filename", "pcap_file")
PCAP_PACKET_KEYS = ("pcap_cnt", "pcap_packet")


def _first_key(e, keys):
    for k in keys:
        if k in e:
            return k, e[k]
    return keys[0], "<absent>"


def replay_problems(e, c, capture):
    """pcap_filename / pcap_cnt of a `dicomon replay` flow_end: the capture,
    a packet number (1-based, tshark's frame.number) not before the
    association's first frame."""
    p = []
    k, pf = _first_key(e, PCAP_FILE_KEYS)
    if not isinstance(pf, str) or os.path.basename(pf) != os.path.basename(capture):
        p.append("%s: got %r, expected %r" % (k, pf, capture))
    k, pk = _first_key(e, PCAP_PACKET_KEYS)
    if type(pk) is not int or pk < 1:
        p.append("%s: got %r, expected a packet number" % (k, pk))
    elif c.first_frame is not None and pk < c.first_frame:
        p.append("%s: got %d, before the association's first frame %d" % (k, pk, c.first_frame))
    elif e.get("reason") in ("fin", "rst") and c.frames and pk not in c.frames:
        # ended by one of its own segments: that segment's number
        p.append("%s: got %d, not a segment of the connection (reason %s; its frames %d..%d)"
                 % (k, pk, e.get("reason"), min(c.frames), max(c.frames)))
    return p


def event_problems(row, c, fes, replay=None):
    """dicomon's flow_end(s) for one association vs the truth. replay: the
    capture file `dicomon replay` read (pcap_file/pcap_packet checked)."""
    p = []
    kind = row_kind(row)
    if kind == "http":
        if fes:
            p.append("%d flow_end(s) for an HTTP connection (%s), expected none"
                     % (len(fes), ep(*c.client)))
        return p
    open_at_end = row["expect"].get("open_at_end")
    if open_at_end and replay is None and not fes:
        return p  # `dicomon run` was stopped with the association still open
    if len(fes) != 1:
        p.append("expected exactly 1 flow_end for %s, got %d" % (ep(*c.client), len(fes)))
        if not fes:
            return p
    e = fes[0]
    t = c.ts
    if open_at_end and replay is not None and e.get("reason") != "capture_end":
        p.append("reason: got %r, expected 'capture_end' (still open when the capture ends)"
                 % (e.get("reason", "<absent>"),))

    def want(field, exp, got=None):
        got = e.get(field, "<absent>") if got is None else got
        if got != exp or type(got) is not type(exp):
            p.append("%s: got %r, expected %r" % (field, got, exp))

    want("src", c.client[0])
    want("dst", c.server[0])
    want("dport", c.server[1])
    if replay is not None:
        p += replay_problems(e, c, replay)
    exp_vlan = list(next(iter(c.vlans))) if len(c.vlans) == 1 else []
    g = e.get("vlan", "<absent>")
    if (g == "<absent>" and exp_vlan) or (g != "<absent>" and g != exp_vlan):
        p.append("vlan: got %r, expected %r" % (g, exp_vlan))
    p += integrity_problems(e)
    if kind == "tls":
        return p + tls_event_problems(e, c)
    if t.rq is not None:
        want("calling_ae", t.rq.get("calling"))
        want("called_ae", t.rq.get("called"))
    want("outcome", t.outcome())
    # reject / abort
    rj = t.reject()
    g = e.get("reject", "<absent>")
    if rj is None:
        if g is not None:
            p.append("reject: got %r, expected null" % (g,))
    elif not isinstance(g, dict):
        p.append("reject: got %r, expected %r" % (g, rj))
    else:
        for k in ("result", "source", "reason", "reason_name"):
            if rj[k] is not None and g.get(k, "<absent>") != rj[k]:
                p.append("reject.%s: got %r, expected %r" % (k, g.get(k, "<absent>"), rj[k]))
    ab = t.abort_info()
    g = e.get("abort", "<absent>")
    if ab is None:
        if g is not None:
            p.append("abort: got %r, expected null" % (g,))
    elif not isinstance(g, dict):
        p.append("abort: got %r, expected %r" % (g, ab))
    else:
        for k in ("source", "reason"):
            if g.get(k, "<absent>") != ab[k]:
                p.append("abort.%s: got %r, expected %r" % (k, g.get(k, "<absent>"), ab[k]))
        if ab["reason_name"] is not None and g.get("reason_name") != ab["reason_name"]:
            p.append("abort.reason_name: got %r, expected %r" % (g.get("reason_name"), ab["reason_name"]))
        elif not isinstance(g.get("reason_name"), str):
            p.append("abort.reason_name: got %r, expected a string" % (g.get("reason_name", "<absent>"),))
    # implementation, fingerprint, max PDU
    imp = e.get("implementation", "<absent>")
    exp = t.implementation()
    if not isinstance(imp, dict):
        p.append("implementation: got %r, expected %r" % (imp, exp))
    else:
        for side in ("orig", "reply"):
            got = _side(imp.get(side))
            if got != exp[side]:
                p.append("implementation.%s: got %r, expected %r" % (side, imp.get(side, "<absent>"), exp[side]))
    told_fp = row["expect"].get("fingerprint")  # the tool's name where its UIDs are borrowed (nmap)
    fp = told_fp or fingerprint_of(exp["orig"]["class_uid"])
    if fp is not None:
        g = e.get("fingerprint", "<absent>")
        gn = g.get("name") if isinstance(g, dict) else g
        # "DCMTK (or Orthanc)": Orthanc sends DCMTK's values, so both names are honest.
        if not isinstance(gn, str) or not (gn == fp or gn.startswith(fp + " (")):
            p.append("fingerprint.name: got %r, expected %r (implementation class UID %s)"
                     % (gn, fp, exp["orig"]["class_uid"]))
        root = "1.2.276.0.7230010.3.0."
        if fp == "DCMTK" and not told_fp and isinstance(g, dict) and exp["orig"]["class_uid"].startswith(root):
            want = exp["orig"]["class_uid"][len(root):]
            gv = g.get("version") if isinstance(g, dict) else None
            if gv != want:
                p.append("fingerprint.version: got %r, expected %r (from the class UID)"
                         % (gv, want))
    mp = e.get("max_pdu", "<absent>")
    exp = t.max_pdu()
    if not isinstance(mp, dict):
        p.append("max_pdu: got %r, expected %r" % (mp, exp))
    else:
        for side in ("orig", "reply"):
            if mp.get(side) != exp[side]:
                p.append("max_pdu.%s: got %r, expected %r" % (side, mp.get(side, "<absent>"), exp[side]))
    # presentation contexts
    p += compare_contexts(e.get("presentation_contexts", "<absent>"), t.contexts(), "presentation_contexts")
    # DIMSE
    for field, exp in (("commands", dict(+t.commands)), ("statuses", dict(+t.statuses))):
        g = e.get(field, "<absent>")
        if g is None and not exp:
            continue
        if not counts_equal(g, exp):
            p.append("%s: got %s, expected {%s}" % (
                field, "{%s}" % fmt_counts(g) if isinstance(g, dict) else repr(g), fmt_counts(exp)))
    for field in ("move_destinations", "move_originators"):
        exp = sorted(getattr(t, field))
        g = e.get(field, "<absent>")
        if g is None:
            g = []
        if not isinstance(g, list) or sorted(set(map(str, g))) != exp or len(g) != len(set(map(str, g))):
            p.append("%s: got %r, expected %r" % (field, g, exp))
    # PDU counts (documented since the first milestone)
    pd = e.get("pdus") if isinstance(e.get("pdus"), dict) else {}
    for d in ("orig", "reply"):
        got = {k: v for k, v in (pd.get(d) or {}).items() if v}
        exp = dict(+t.pdus[d])
        if got != exp:
            p.append("pdus.%s: got {%s}, expected {%s}" % (d, fmt_pdus(got), fmt_pdus(exp)))
    return p


def integrity_problems(e):
    """The tools behaved and nothing was lost: the set-up was decoded whole
    (decode_incomplete null, where the field is given) and the datapath found
    nothing wrong in the stream (no stream_* violation)."""
    p = []
    di = e.get("decode_incomplete")
    if di is not None:
        p.append("decode_incomplete: got %r, expected null (the whole set-up is on the wire)" % (di,))
    codes = [v.get("code") for v in (e.get("violations") or []) if isinstance(v, dict)]
    stream = [c for c in codes if isinstance(c, str) and c.startswith("stream_")]
    if stream:
        p.append("violations: got %s, expected no stream_* anomaly" % ",".join(stream))
    return p


def tls_event_problems(e, c):
    """A TLS association: dicomon sees what tshark sees, the hellos."""
    p = []
    offered, selected = c.tls_versions()
    for k, exp in (("transport", "tls"), ("tls_offered", offered), ("tls_selected", selected)):
        if e.get(k, "<absent>") != exp:
            p.append("%s: got %r, expected %r" % (k, e.get(k, "<absent>"), exp))
    for k in ("calling_ae", "called_ae"):
        if e.get(k) is not None:
            p.append("%s: got %r, expected null (encrypted)" % (k, e.get(k)))
    for k in ("commands", "statuses", "presentation_contexts"):
        if e.get(k):
            p.append("%s: got %r, expected none (encrypted)" % (k, e.get(k)))
    pd = e.get("pdus") if isinstance(e.get("pdus"), dict) else {}
    for d in ("orig", "reply"):
        got = {k: v for k, v in (pd.get(d) or {}).items() if v}
        if got:
            p.append("pdus.%s: got {%s}, expected none (encrypted)" % (d, fmt_pdus(got)))
    return p


# ----------------------------------------------------------------- report

def print_truth(results):
    print("== ground truth (tshark) per association ==")
    for row, c, _ in results:
        if c is None:
            print("%s: (no connection)" % row["name"])
            continue
        t = c.ts
        vl = "  vlan %s" % ",".join("/".join(map(str, v)) for v in sorted(c.vlans)) if c.vlans else ""
        kind = row_kind(row)
        if kind == "http":
            print("%s  %s -> %s  HTTP %s -> %s%s" % (
                row["name"], ep(*c.client), ep(*c.server),
                " ".join("%s %s" % r for r in c.http) or "(no request)",
                ",".join(map(str, c.http_status)) or "(no response)", vl))
            continue
        if kind == "tls":
            print("%s  %s -> %s  TLS offered %s selected %s, bytes orig %d reply %d%s" % (
                (row["name"], ep(*c.client), ep(*c.server)) + c.tls_versions() +
                (c.payload["orig"], c.payload["reply"], vl)))
            print("    " + tls_note(row, c))
            continue
        imp = t.implementation()
        mp = t.max_pdu()
        pcs = t.contexts()
        res = collections.Counter(pc["result"] for pc in pcs)
        print("%s  %s -> %s  calling=%s called=%s  outcome=%s%s" % (
            row["name"], ep(*c.client), ep(*c.server),
            (t.rq or {}).get("calling"), (t.rq or {}).get("called"), t.outcome(), vl))
        print("    pdus orig {%s} reply {%s}; RQ over %s TCP segment(s)" % (
            fmt_pdus(t.pdus["orig"]), fmt_pdus(t.pdus["reply"]),
            t.rq_segments))
        print("    implementation orig %s %s max_pdu %s | reply %s %s max_pdu %s" % (
            imp["orig"]["class_uid"], imp["orig"]["version"], mp["orig"],
            imp["reply"]["class_uid"], imp["reply"]["version"], mp["reply"]))
        print("    %d presentation context(s): %s" % (len(pcs), fmt_counts(res)))
        shown = pcs if len(pcs) <= 6 else pcs[:3] + [None] + pcs[-2:]
        for pc in shown:
            if pc is None:
                print("      ...")
                continue
            print("      id %d %s [%s] -> %s %s" % (pc["id"], pc["abstract_syntax"],
                                                   " ".join(pc["transfer_syntaxes"]), pc["result"],
                                                   pc["accepted_transfer_syntax"] or ""))
        print("    commands {%s} statuses {%s}" % (fmt_counts(t.commands), fmt_counts(t.statuses)))
        if t.move_destinations or t.move_originators:
            print("    move_destinations %s move_originators %s" % (t.move_destinations, t.move_originators))
        if t.reject():
            print("    reject %s" % t.reject())
        if t.abort_info():
            print("    abort %s (from %s)" % (t.abort_info(), t.abort_dir))


def run(a, with_events):
    manifest = read_manifest(a.manifest)
    ports = sorted({r["dport"] for r in manifest})
    frames = read_jsonl(a.tshark)
    conns = build_conns(frames, set(ports))
    if a.payload:
        walk_payload(read_tsv(a.payload), conns)
    profile = read_profile(a.profile) if a.profile else None
    pairs, global_problems = pair(manifest, conns)
    probes = port_probes(manifest, conns)
    replay = getattr(a, "replay", None)

    events, by_key = [], collections.defaultdict(list)
    if with_events:
        events, bad_lines = read_events(a.events)
        global_problems += bad_lines
        if replay is None:
            if not events or events[0].get("event") != "ready":
                global_problems.append('first event is not {"event":"ready"}')
            if not events or events[-1].get("event") != "stats":
                global_problems.append('last event is not the final {"event":"stats"}')
            if a.dicomon_rc is not None and a.dicomon_rc != 0:
                global_problems.append("dicomon exit status %d after SIGINT, expected 0" % a.dicomon_rc)
        else:
            if a.dicomon_rc is not None and a.dicomon_rc != 0:
                global_problems.append("dicomon replay exit status %d, expected 0" % a.dicomon_rc)
            unmarked = [e for e in events if e.get("event") not in ("ready", "stats", "replay")
                        and (not any(k in e for k in PCAP_FILE_KEYS)
                             or not any(k in e for k in PCAP_PACKET_KEYS))]
            if unmarked:
                global_problems.append("%d event line(s) without pcap_filename/pcap_cnt (first: %.120s)"
                                       % (len(unmarked), json.dumps(unmarked[0])))
        for e in events:
            if e.get("event") == "flow_end":
                by_key[(e.get("src"), e.get("sport"))].append(e)
        known = {c.client for _, c in pairs if c is not None}
        for k, es in by_key.items():
            if k not in known:
                global_problems.append("flow_end for a connection the test did not make: %s -> %s"
                                       % (ep(*k), ep(es[0].get("dst"), es[0].get("dport"))))

    results = []
    for row, c in pairs:
        probs = truth_problems(row, c, profile)
        if with_events and c is not None:
            probs += ["dicomon " + x for x in event_problems(row, c, by_key.get(c.client, []), replay)]
        results.append((row, c, probs))

    if not with_events:
        print_truth(results)
    hdr = ["scenario", "client", "->", "PCs", "commands", "statuses", "outcome"]
    if with_events:
        hdr.append("dicomon outcome")
    hdr.append("result")
    table = []
    for row, c, probs in results:
        if c is None:
            line = [row["name"], "-", "-", "-", "-", "-", "-"]
        elif row_kind(row) == "http":
            line = [row["name"], ep(*c.client), ep(*c.server), "-",
                    " ".join("%s %s" % r for r in c.http)[:40] or "-",
                    ",".join(map(str, c.http_status)) or "-", "http"]
        elif row_kind(row) == "tls":
            told = row["expect"].get("told", {})
            line = [row["name"], ep(*c.client), ep(*c.server), "(tls)",
                    "(told: %s)" % fmt_counts(told.get("commands")),
                    "(told: %s)" % fmt_counts(told.get("statuses")), "tls %s/%s" % c.tls_versions()]
        else:
            t = c.ts
            pcs = t.contexts()
            line = [row["name"], ep(*c.client), ep(*c.server),
                    "%d/%d" % (sum(1 for x in pcs if x["result"] == "acceptance"), len(pcs)),
                    fmt_counts(t.commands), fmt_counts(t.statuses), t.outcome()]
        if with_events:
            fes = [] if c is None else by_key.get(c.client, [])
            line.append(",".join(str(e.get("outcome", "<absent>")) if row_kind(row) != "tls"
                                 else "%s %s/%s" % (e.get("transport"), e.get("tls_offered"), e.get("tls_selected"))
                                 for e in fes) or "(no flow_end)")
        line.append("FAIL" if probs else "ok")
        table.append(line)
    if with_events:
        table.append(["(event stream)", "", "", "", "", "", "", "%d events" % len(events),
                      "FAIL" if global_problems else "ok"])
    w = [max(len(str(x[i])) for x in [hdr] + table) for i in range(len(hdr))]
    print("== %s ==" % ("tshark ground truth vs dicomon flow_end" if with_events else "tshark ground truth"))
    for line in [hdr] + table:
        print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(line)).rstrip())
    for row, c, _ in results:
        if row_kind(row) == "tls":
            print("note %s: %s" % (row["name"], tls_note(row, c)))
    if probes:
        print("note: %d TCP connection(s) to service ports carried no payload (port probes, no "
              "association): %s" % (len(probes), ", ".join("%s -> %s" % (ep(*c.client), ep(*c.server))
                                                            for c in probes[:6])
                                    + (" ..." if len(probes) > 6 else "")))
    if not any(row_kind(row) != "http" for row in manifest):
        print("note: the manifest lists no association%s" % (
            "; dicomon must report none" if with_events else ""))
    for row, c, probs in results:
        where = "" if c is None else " (client %s)" % ep(*c.client)
        for pr in probs:
            print("FAIL %s%s: %s" % (row["name"], where, pr))
    for pr in global_problems:
        print("FAIL %s: %s" % ("(event stream)" if with_events else "(capture)", pr))
    passed = sum(1 for _, _, p in results if not p)
    failed = len(results) - passed
    if global_problems:
        failed += 1
    elif with_events:
        passed += 1
    print("assoc: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("profile")
    p.add_argument("--out", required=True)
    p.add_argument("--name", default="ManyContexts")
    p = sub.add_parser("extract")
    p.add_argument("--pcap", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--payload-out")
    p.add_argument("--ports", default="11112,11113", help="DICOM ports")
    p.add_argument("--tls-ports", default="", help="ports tshark decodes as TLS")
    p.add_argument("--http-ports", default="", help="ports tshark decodes as HTTP")
    p.add_argument("--ports-file", help="PROTO PORT... lines; replaces the three port options")
    for name in ("truth", "check"):
        p = sub.add_parser(name)
        p.add_argument("--manifest", required=True)
        p.add_argument("--tshark", required=True)
        p.add_argument("--payload")
        p.add_argument("--profile")
        if name == "check":
            p.add_argument("--events", required=True)
            p.add_argument("--dicomon-rc", type=int)
            p.add_argument("--replay", metavar="CAPTURE",
                           help="the events are `dicomon replay --json CAPTURE`")
    a = ap.parse_args(argv)
    if a.cmd == "profile":
        return cmd_profile(a)
    if a.cmd == "extract":
        return cmd_extract(a)
    return run(a, with_events=(a.cmd == "check"))


if __name__ == "__main__":
    sys.exit(main())
