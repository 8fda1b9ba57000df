#!/usr/bin/env python3
"""Ground truth (tshark) vs. dicomon events checker for the e2e tests.

Standard library only. Three sub-commands:

  extract  --pcap P --out T [--payload-out PL] [--dicom-port 11112] [--tls-port 2762]
           Run tshark over a capture and write the field table T (TSV with a
           header row) and, optionally, a payload table PL used to cross-check
           tshark's DICOM dissection with an independent PDU-header walk.

  truth    --manifest M --tshark T [--payload PL]
           Print the per-association ground truth and sanity-check it against
           what the DCMTK tools were asked to do (no dicomon involved).

  check    --manifest M --tshark T [--payload PL] --events E [--dicomon-rc N]
           [--metrics S]
           Same as truth, then compare dicomon's flow_end events with it, and
           the totals of a /metrics scrape S (taken after the last association
           ended) with it: PDUs by type and direction, associations started
           cleartext and TLS.

The manifest is a TSV (header row) written by test_dcmtk.sh, one row per
association in the order the tools made them:
  name  dport  transport  calling_ae  called_ae  state  tool_ok  note
("-" means "not visible / not applicable").  TCP connections to the DICOM
and TLS ports found in the capture are paired with manifest rows in time
order; the client (SYN sender) port identifies the association.

Exit status: 0 if every check passed, 1 otherwise, 2 on usage/input errors.
The last line printed is always "e2e: N passed, M failed".
"""

import argparse
import collections
import json
import subprocess
import sys

PDU_NAMES = {
    1: "A-ASSOCIATE-RQ",
    2: "A-ASSOCIATE-AC",
    3: "A-ASSOCIATE-RJ",
    4: "P-DATA-TF",
    5: "A-RELEASE-RQ",
    6: "A-RELEASE-RP",
    7: "A-ABORT",
}
PDU_SHORT = {
    "A-ASSOCIATE-RQ": "RQ",
    "A-ASSOCIATE-AC": "AC",
    "A-ASSOCIATE-RJ": "RJ",
    "P-DATA-TF": "PD",
    "A-RELEASE-RQ": "RelRQ",
    "A-RELEASE-RP": "RelRP",
    "A-ABORT": "AB",
}
TLS_VERSIONS = {
    0x0300: "SSL3.0",
    0x0301: "TLS1.0",
    0x0302: "TLS1.1",
    0x0303: "TLS1.2",
    0x0304: "TLS1.3",
}

FIELDS = [
    "frame.number",
    "frame.time_relative",
    "tcp.stream",
    "ip.src",
    "tcp.srcport",
    "ip.dst",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq",
    "tcp.len",
    "tcp.analysis.retransmission",
    "tcp.analysis.out_of_order",
    "tcp.analysis.lost_segment",
    "dicom.pdu.type",
    "dicom.assoc.ae.called",
    "dicom.assoc.ae.calling",
    "tls.handshake.type",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.version",
]
PAYLOAD_FIELDS = ["tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.len", "tcp.payload"]

TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


# --------------------------------------------------------------------- tshark

def tshark_fields_cmd(pcap, dicom_port, tls_port):
    cmd = ["tshark", "-n", "-r", pcap,
           "-d", "tcp.port==%d,dicom" % dicom_port,
           "-d", "tcp.port==%d,tls" % tls_port,
           "-o", "tcp.desegment_tcp_streams:TRUE",
           "-o", "tcp.analyze_sequence_numbers:TRUE",
           "-o", "tcp.relative_sequence_numbers:TRUE",
           "-o", "tls.desegment_ssl_records:TRUE",
           "-Y", "tcp",
           "-T", "fields", "-E", "header=y", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    return cmd


def tshark_payload_cmd(pcap, dicom_port):
    # No DICOM dissector here: raw TCP payload per segment, for the
    # independent PDU-header walk.
    cmd = ["tshark", "-n", "-r", pcap, "--disable-protocol", "dicom",
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-o", "tcp.relative_sequence_numbers:TRUE",
           "-Y", "tcp.len > 0 && tcp.port == %d" % dicom_port,
           "-T", "fields", "-E", "header=y", "-E", "separator=/t"]
    for f in PAYLOAD_FIELDS:
        cmd += ["-e", f]
    return cmd


def cmd_extract(a):
    with open(a.out, "w") as out:
        subprocess.run(tshark_fields_cmd(a.pcap, a.dicom_port, a.tls_port),
                       stdout=out, check=True)
    if a.payload_out:
        with open(a.payload_out, "w") as out:
            subprocess.run(tshark_payload_cmd(a.pcap, a.dicom_port), stdout=out, check=True)
    return 0


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


def ints(v):
    """'1,4' -> [1, 4]; '0x0304,0x0303' -> [772, 771]; '' -> []"""
    out = []
    for p in v.split(","):
        p = p.strip()
        if p:
            out.append(int(p, 0))
    return out


def tls_name(v):
    return TLS_VERSIONS.get(v, "0x%04x" % v)


def is_grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


# --------------------------------------------------------------------- truth

class Conn:
    def __init__(self, stream):
        self.stream = stream
        self.first_time = None
        self.client = None  # (ip, port)
        self.server = None
        self.syn_seen = False
        self.pdus = {"orig": collections.Counter(), "reply": collections.Counter()}
        self.walk = None  # PDU-header walk counts, from the payload table
        self.tcp_len = {"orig": 0, "reply": 0}
        self.seq_span = {"orig": [None, None], "reply": [None, None]}
        self.retrans = 0
        self.lost = 0
        self.fin = {"orig": False, "reply": False}
        self.rst = False
        self.calling_ae = None
        self.called_ae = None
        self.tls_offered = None
        self.tls_selected = None
        self.tls_hellos = {"client": 0, "server": 0}

    def direction(self, src, sport):
        return "orig" if (src, sport) == self.client else "reply"

    def unique_bytes(self, d):
        lo, hi = self.seq_span[d]
        return 0 if lo is None else hi - lo

    def bytes(self, d):
        """Ground-truth payload bytes: sum of tcp.len, or the unique stream
        span if tshark flagged retransmissions in this connection."""
        return self.unique_bytes(d) if self.retrans else self.tcp_len[d]

    def expected_reason(self):
        if self.rst and not (self.fin["orig"] or self.fin["reply"]):
            return {"rst"}
        if self.rst:
            return {"rst", "fin"}
        if self.fin["orig"] or self.fin["reply"]:
            return {"fin"}
        return {"fin", "rst", "evict"}


def build_conns(rows, ports):
    conns = {}
    for r in rows:
        if not r.get("tcp.stream"):
            continue
        sid = int(r["tcp.stream"])
        src, dst = r["ip.src"], r["ip.dst"]
        sport, dport = int(r["tcp.srcport"]), int(r["tcp.dstport"])
        flags = int(r["tcp.flags"], 0) if r["tcp.flags"] else 0
        c = conns.get(sid)
        if c is None:
            c = conns[sid] = Conn(sid)
            c.first_time = float(r["frame.time_relative"] or 0)
        if flags & TCP_SYN and not flags & TCP_ACK:
            c.client, c.server, c.syn_seen = (src, sport), (dst, dport), True
        if c.client is None:
            # capture started mid-connection: fall back to the service port
            if dport in ports:
                c.client, c.server = (src, sport), (dst, dport)
            elif sport in ports:
                c.client, c.server = (dst, dport), (src, sport)
            else:
                continue
        d = c.direction(src, sport)
        ln = int(r["tcp.len"] or 0)
        c.tcp_len[d] += ln
        if r.get("tcp.analysis.retransmission") or r.get("tcp.analysis.out_of_order"):
            c.retrans += 1
        if r.get("tcp.analysis.lost_segment"):
            c.lost += 1
        if ln > 0 and r.get("tcp.seq"):
            seq = int(r["tcp.seq"])
            span = c.seq_span[d]
            span[0] = seq if span[0] is None else min(span[0], seq)
            span[1] = seq + ln if span[1] is None else max(span[1], seq + ln)
        if flags & TCP_FIN:
            c.fin[d] = True
        if flags & TCP_RST:
            c.rst = True
        for t in ints(r.get("dicom.pdu.type", "")):
            c.pdus[d][PDU_NAMES.get(t, "type-0x%02x" % t)] += 1
            if t == 1 and d == "orig" and c.calling_ae is None:
                c.calling_ae = r.get("dicom.assoc.ae.calling", "").split(",")[0].strip()
                c.called_ae = r.get("dicom.assoc.ae.called", "").split(",")[0].strip()
        hs = ints(r.get("tls.handshake.type", ""))
        if 1 in hs and d == "orig":
            c.tls_hellos["client"] += 1
            sv = [v for v in ints(r.get("tls.handshake.extensions.supported_version", ""))
                  if not is_grease(v)]
            hv = ints(r.get("tls.handshake.version", ""))
            if sv:
                c.tls_offered = tls_name(max(sv))
            elif hv:
                c.tls_offered = tls_name(hv[0])
        if 2 in hs and d == "reply":
            c.tls_hellos["server"] += 1
            sv = ints(r.get("tls.handshake.extensions.supported_version", ""))
            hv = ints(r.get("tls.handshake.version", ""))
            if sv:
                c.tls_selected = tls_name(sv[0])
            elif hv:
                c.tls_selected = tls_name(hv[0])
    return conns


def walk_payload(rows, conns):
    """Independent PDU count: rebuild each direction's byte stream from the
    raw segments (placed by relative sequence number, so retransmissions are
    harmless) and walk the 6-byte PDU headers."""
    streams = collections.defaultdict(dict)  # (sid, dir) -> {seq: bytes}
    for r in rows:
        sid = int(r["tcp.stream"])
        c = conns.get(sid)
        if c is None or c.client is None or not r.get("tcp.payload"):
            continue
        d = "orig" if int(r["tcp.srcport"]) == c.client[1] else "reply"
        data = bytes.fromhex(r["tcp.payload"].replace(":", ""))
        streams[(sid, d)][int(r["tcp.seq"])] = data
    for (sid, d), segs in streams.items():
        buf = bytearray()
        base = min(segs)
        for seq in sorted(segs):
            off = seq - base
            data = segs[seq]
            if off + len(data) > len(buf):
                buf[off:] = data if off <= len(buf) else bytes(off - len(buf)) + data
        cnt = collections.Counter()
        pos = 0
        while pos + 6 <= len(buf):
            t = buf[pos]
            ln = int.from_bytes(buf[pos + 2:pos + 6], "big")
            cnt[PDU_NAMES.get(t, "type-0x%02x" % t)] += 1
            pos += 6 + ln
        if pos != len(buf):
            cnt["(trailing %d bytes)" % (len(buf) - pos)] += 1
        c = conns[sid]
        if c.walk is None:
            c.walk = {"orig": collections.Counter(), "reply": collections.Counter()}
        c.walk[d] = cnt


def read_manifest(path):
    rows = read_tsv(path)
    for r in rows:
        r["dport"] = int(r["dport"])
        for k in ("calling_ae", "called_ae"):
            if r[k] == "-":
                r[k] = None
        r["tool_ok"] = r["tool_ok"] == "1"
    return rows


def pair(manifest, conns, ports):
    """Pair manifest rows with service connections in time order.
    Returns (pairs, problems) where pairs is a list of (row, conn|None)."""
    svc = sorted((c for c in conns.values() if c.server and c.server[1] in ports),
                 key=lambda c: c.first_time)
    problems = []
    pairs = []
    i = 0
    for row in manifest:
        if i < len(svc) and svc[i].server[1] == row["dport"]:
            pairs.append((row, svc[i]))
            i += 1
        else:
            pairs.append((row, None))
    if i < len(svc):
        problems.append("capture has %d more connection(s) to ports %s than the manifest: client ports %s"
                        % (len(svc) - i, sorted(ports), [c.client[1] for c in svc[i:]]))
    return pairs, problems


def fmt_pdus(cnt):
    if not cnt:
        return "-"
    order = list(PDU_NAMES.values())
    keys = sorted(cnt, key=lambda k: order.index(k) if k in order else 99)
    return " ".join("%s%d" % (PDU_SHORT.get(k, k), cnt[k]) for k in keys if cnt[k])


def truth_problems(row, c):
    """Sanity of the ground truth itself versus what the tools were asked."""
    p = []
    if not row["tool_ok"]:
        p.append("DCMTK tool: %s" % row["note"])
    if c is None:
        p.append("no TCP connection to port %d found in the capture" % row["dport"])
        return p
    if not c.syn_seen:
        p.append("capture missed the SYN (client side guessed from the port)")
    if c.lost:
        p.append("capture lost %d segment(s) (tshark: previous segment not captured): "
                 "ground truth incomplete" % c.lost)
    for d in ("orig", "reply"):
        if c.bytes(d) <= 0:
            p.append("tshark: no payload bytes in direction %s" % d)
    if row["transport"] == "cleartext":
        o, r = c.pdus["orig"], c.pdus["reply"]
        if c.walk is not None:
            for d in ("orig", "reply"):
                if +c.walk[d] != +c.pdus[d]:
                    p.append("tshark dissector %s PDUs {%s} != PDU-header walk {%s}"
                             % (d, fmt_pdus(c.pdus[d]), fmt_pdus(c.walk[d])))
        if o["A-ASSOCIATE-RQ"] != 1:
            p.append("tshark: %d A-ASSOCIATE-RQ in orig, expected 1" % o["A-ASSOCIATE-RQ"])
        if c.calling_ae != row["calling_ae"] or c.called_ae != row["called_ae"]:
            p.append("tshark: A-ASSOCIATE-RQ carries calling=%r called=%r, tool was told %r/%r"
                     % (c.calling_ae, c.called_ae, row["calling_ae"], row["called_ae"]))
        if row["state"] == "released":
            for d, cnt, need in (("orig", o, ("P-DATA-TF", "A-RELEASE-RQ")),
                                 ("reply", r, ("A-ASSOCIATE-AC", "P-DATA-TF", "A-RELEASE-RP"))):
                for k in need:
                    if cnt[k] < 1:
                        p.append("tshark: no %s in %s" % (k, d))
        elif row["state"] == "aborted":
            if o["A-ABORT"] + r["A-ABORT"] < 1:
                p.append("tshark: no A-ABORT in an aborted association")
        elif row["state"] == "rejected":
            if r["A-ASSOCIATE-RJ"] != 1 or r["A-ASSOCIATE-AC"] or o["P-DATA-TF"]:
                p.append("tshark: rejected association shows orig {%s} reply {%s}"
                         % (fmt_pdus(o), fmt_pdus(r)))
    else:
        if +c.pdus["orig"] or +c.pdus["reply"]:
            p.append("tshark decoded DICOM PDUs on a TLS connection")
        if c.tls_offered is None or c.tls_selected is None:
            p.append("tshark: TLS ClientHello/ServerHello version not found (offered=%s selected=%s)"
                     % (c.tls_offered, c.tls_selected))
    return p


# --------------------------------------------------------------------- events

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


def norm_pdus(v):
    """dicomon 'pdus' value -> {'orig': {...}, 'reply': {...}} without zeros."""
    out = {"orig": {}, "reply": {}}
    if v is None:
        return out
    if not isinstance(v, dict):
        raise ValueError("pdus is %r, not an object" % (v,))
    for d in ("orig", "reply"):
        cnt = v.get(d) or {}
        if not isinstance(cnt, dict):
            raise ValueError("pdus.%s is %r, not an object" % (d, cnt))
        out[d] = {k: n for k, n in cnt.items() if n}
    extra = set(v) - {"orig", "reply"}
    if extra:
        raise ValueError("pdus has unexpected keys %s" % sorted(extra))
    return out


def event_problems(row, c, fes):
    """Compare the flow_end events for one association with the truth."""
    p = []
    if len(fes) != 1:
        p.append("expected exactly 1 flow_end for client port %d, got %d" % (c.client[1], len(fes)))
        if not fes:
            return p
    e = fes[0]  # with duplicates, the first one is still compared field by field

    def want(field, exp):
        got = e.get(field, "<absent>")
        if got != exp or type(got) is not type(exp):
            p.append("%s: got %r, expected %r" % (field, got, exp))

    want("transport", row["transport"])
    want("midstream", False)
    want("src", c.client[0])
    want("dst", c.server[0])
    want("dport", c.server[1])
    if e.get("state") != row["state"]:
        p.append("state: got %r, expected %r" % (e.get("state"), row["state"]))
    reasons = c.expected_reason()
    if e.get("reason") not in reasons:
        p.append("reason: got %r, expected %s (tshark saw fin=%s rst=%s)"
                 % (e.get("reason"), " or ".join(sorted(reasons)),
                    c.fin["orig"] or c.fin["reply"], c.rst))
    if row["transport"] == "cleartext":
        want("calling_ae", row["calling_ae"])
        want("called_ae", row["called_ae"])
    else:
        for k in ("calling_ae", "called_ae"):
            if e.get(k) is not None:
                p.append("%s: got %r, expected absent/null on TLS" % (k, e.get(k)))
    try:
        got = norm_pdus(e.get("pdus"))
    except ValueError as ex:
        p.append(str(ex))
        got = None
    if got is not None:
        for d in ("orig", "reply"):
            exp = {k: n for k, n in c.pdus[d].items() if n} if row["transport"] == "cleartext" else {}
            if got[d] != exp:
                p.append("pdus.%s: got {%s}, expected {%s}"
                         % (d, fmt_pdus(got[d]), fmt_pdus(exp)))
    if row["transport"] == "tls":
        want("tls_offered", c.tls_offered)
        want("tls_selected", c.tls_selected)
    b = e.get("bytes") if isinstance(e.get("bytes"), dict) else {}
    for d in ("orig", "reply"):
        exp = c.bytes(d)
        got = b.get(d, "<absent>")
        if got != exp or isinstance(got, bool):
            p.append("bytes.%s: got %r, expected %d%s" % (
                d, got, exp, " (unique stream bytes; tshark saw retransmissions)" if c.retrans else ""))
    return p


# --------------------------------------------------------------------- main

def parse_metrics(path):
    """Prometheus text format -> {(name, frozenset(labels)): value}; families typed once."""
    samples, types = {}, {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines:
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            if name in types:
                raise ValueError("family %s typed twice" % name)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, labels = head, {}
        if "{" in head:
            name, rest = head.split("{", 1)
            for kv in rest.rstrip("}").split('",'):
                if kv:
                    k, v = kv.split('="', 1)
                    labels[k] = v.rstrip('"')
        samples[(name, frozenset(labels.items()))] = float(value)
    return samples, types


def metric_sum(samples, name, **want):
    return sum(v for (n, labels), v in samples.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


def metrics_problems(path, manifest, pairs):
    try:
        samples, types = parse_metrics(path)
    except (OSError, ValueError) as e:
        return ["cannot read the scrape %s: %s" % (path, e)]
    p = []
    with open(path, "rb") as f:
        lint = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True, text=True)
    if lint.returncode != 0 or lint.stdout.strip() or lint.stderr.strip():
        p.append("promtool check metrics (rc %d): %s" % (lint.returncode, (lint.stdout + lint.stderr).strip()))
    for fam in ("dicomon_pdus_total", "dicomon_association_events_total", "dicomon_packets_total"):
        if types.get(fam) != "counter":
            p.append("%s is not a counter family in the scrape" % fam)
    for d in ("orig", "reply"):
        for t, name in PDU_NAMES.items():
            exp = sum(c.pdus[d][name] for _, c in pairs if c is not None)
            got = metric_sum(samples, "dicomon_pdus_total", type=name, direction=d)
            if got != exp:
                p.append("dicomon_pdus_total{type=%s,direction=%s} = %d, tshark counted %d"
                         % (name, d, got, exp))
    for transport, event in (("cleartext", "new_cleartext"), ("tls", "new_tls")):
        exp = sum(1 for row in manifest if row["transport"] == transport)
        got = metric_sum(samples, "dicomon_association_events_total", event=event)
        if got != exp:
            p.append("dicomon_association_events_total{event=%s} = %d, the test made %d"
                     % (event, got, exp))
    # whole associations, counted by userspace as records end
    outcome_of = {"released": "released", "aborted": "aborted", "rejected": "rejected",
                  "tls_established": "incomplete"}  # TLS: the set-up is encrypted
    want = collections.Counter((row["transport"], outcome_of.get(row["state"], row["state"]))
                               for row in manifest)
    for (transport, outcome), exp in sorted(want.items()):
        got = metric_sum(samples, "dicomon_associations_total", transport=transport, outcome=outcome)
        if got != exp:
            p.append("dicomon_associations_total{transport=%s,outcome=%s} = %d, the test made %d"
                     % (transport, outcome, got, exp))
    if metric_sum(samples, "dicomon_associations_total") != len(manifest):
        p.append("dicomon_associations_total sums to %d, the test made %d"
                 % (metric_sum(samples, "dicomon_associations_total"), len(manifest)))
    tls = collections.Counter(c.tls_selected for row, c in pairs
                              if c is not None and row["transport"] == "tls")
    for version, exp in sorted(tls.items()):
        got = metric_sum(samples, "dicomon_tls_associations_total", version=version)
        if got != exp:
            p.append("dicomon_tls_associations_total{version=%s} = %d, tshark saw %d" % (version, got, exp))
    if metric_sum(samples, "dicomon_tls_associations_total") != sum(tls.values()):
        p.append("dicomon_tls_associations_total has versions tshark did not see")
    rejected = sum(1 for row in manifest if row["state"] == "rejected")
    if metric_sum(samples, "dicomon_association_rejects_total") != rejected:
        p.append("dicomon_association_rejects_total = %d, the test had %d rejected"
                 % (metric_sum(samples, "dicomon_association_rejects_total"), rejected))
    if metric_sum(samples, "dicomon_vlan_associations_total", vlan="none") != len(manifest):
        p.append("dicomon_vlan_associations_total{vlan=none} = %d, the test made %d untagged"
                 % (metric_sum(samples, "dicomon_vlan_associations_total", vlan="none"), len(manifest)))
    if metric_sum(samples, "dicomon_active_associations") != 0:
        p.append("dicomon_active_associations is not 0 after every association ended")
    count = metric_sum(samples, "dicomon_association_duration_seconds_count")
    if count != len(manifest):
        p.append("dicomon_association_duration_seconds_count = %d, the test made %d" % (count, len(manifest)))
    if metric_sum(samples, "dicomon_packets_total", **{"class": "dicom"}) <= 0:
        p.append("no packets of class dicom")
    if metric_sum(samples, "dicomon_ringbuf_reserve_failures_total") != 0:
        p.append("ring buffer reservations failed")
    return p


def run(a, with_events):
    ports = {a.dicom_port, a.tls_port}
    manifest = read_manifest(a.manifest)
    conns = build_conns(read_tsv(a.tshark), ports)
    if a.payload:
        walk_payload(read_tsv(a.payload), conns)
    pairs, global_problems = pair(manifest, conns, ports)

    events, bad_lines = ([], [])
    by_port = {}
    if with_events:
        events, bad_lines = read_events(a.events)
        global_problems += bad_lines
        if not events or events[0].get("event") != "ready":
            global_problems.append("first event is not {\"event\":\"ready\"}")
        if not events or events[-1].get("event") != "stats":
            global_problems.append("last event is not the final {\"event\":\"stats\"}")
        if a.dicomon_rc is not None and a.dicomon_rc != 0:
            global_problems.append("dicomon exit status %d after SIGINT, expected 0" % a.dicomon_rc)
        flow_ends = [e for e in events if e.get("event") == "flow_end"]
        by_port = collections.defaultdict(list)
        for e in flow_ends:
            by_port[e.get("sport")].append(e)
        known = {c.client[1] for _, c in pairs if c is not None}
        for e in flow_ends:
            if e.get("sport") not in known:
                global_problems.append("flow_end for a connection the test did not make: %s:%s -> %s:%s"
                                       % (e.get("src"), e.get("sport"), e.get("dst"), e.get("dport")))

    metric_problems = []
    if with_events and a.metrics:
        metric_problems = metrics_problems(a.metrics, manifest, pairs)

    results = []
    for row, c in pairs:
        probs = truth_problems(row, c)
        if with_events and c is not None:
            fes = by_port.get(c.client[1], [])  # matched by client port only
            probs += ["dicomon " + x for x in event_problems(row, c, fes)]
        results.append((row, c, probs))

    # ---- report
    hdr = ["scenario", "cport", "transport", "orig PDUs", "reply PDUs", "bytes o/r", "TLS off/sel"]
    if with_events:
        hdr.append("dicomon state")
    hdr.append("result")
    table = []
    for row, c, probs in results:
        line = [row["name"], "-", row["transport"], "-", "-", "-", "-"]
        if c is not None:
            tls = "-" if row["transport"] != "tls" else "%s/%s" % (c.tls_offered, c.tls_selected)
            line = [row["name"], str(c.client[1]), row["transport"], fmt_pdus(c.pdus["orig"]),
                    fmt_pdus(c.pdus["reply"]), "%d/%d" % (c.bytes("orig"), c.bytes("reply")), tls]
        if with_events:
            fes = [] if c is None else by_port.get(c.client[1], [])
            line.append(",".join(str(e.get("state")) for e in fes) or "(no flow_end)")
        line.append("FAIL" if probs else "ok")
        table.append(line)
    if with_events:
        table.append(["(event stream)", "", "", "", "", "", "", "%d events" % len(events),
                      "FAIL" if global_problems else "ok"])
        if a.metrics:
            table.append(["(/metrics)", "", "", "", "", "", "", "", "FAIL" if metric_problems else "ok"])
    w = [max(len(str(x[i])) for x in [hdr] + table) for i in range(len(hdr))]
    title = "ground truth (tshark)" + (" vs dicomon flow_end" if with_events else "")
    print("== %s ==" % title)
    for line in [hdr] + table:
        print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(line)).rstrip())
    for row, c, probs in results:
        for pr in probs:
            print("FAIL %s%s: %s" % (row["name"], "" if c is None else " (client port %d)" % c.client[1], pr))
    for pr in global_problems:
        print("FAIL %s: %s" % ("(event stream)" if with_events else "(capture)", pr))
    for pr in metric_problems:
        print("FAIL (/metrics): %s" % pr)
    if with_events:
        print("(checked per association: exactly one flow_end, transport, midstream, src/dst/dport, state, "
              "reason, AE titles, PDU counts per direction, TLS versions, payload bytes per direction; "
              "event stream: JSON lines, ready first, stats last, dicomon exit 0, no unexpected flow_end)")
    passed = sum(1 for _, _, p in results if not p)
    failed = len(results) - passed
    # the event stream (or, in truth mode, capture-level problems) is one more check
    if global_problems:
        failed += 1
    elif with_events:
        passed += 1
    if with_events and a.metrics:
        if metric_problems:
            failed += 1
        else:
            passed += 1
    print("e2e: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--dicom-port", type=int, default=11112)
        p.add_argument("--tls-port", type=int, default=2762)

    p = sub.add_parser("extract")
    common(p)
    p.add_argument("--pcap", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--payload-out")
    for name in ("truth", "check"):
        p = sub.add_parser(name)
        common(p)
        p.add_argument("--manifest", required=True)
        p.add_argument("--tshark", required=True)
        p.add_argument("--payload")
        if name == "check":
            p.add_argument("--events", required=True)
            p.add_argument("--dicomon-rc", type=int)
            p.add_argument("--metrics")
    a = ap.parse_args(argv)
    if a.cmd == "extract":
        return cmd_extract(a)
    return run(a, with_events=(a.cmd == "check"))


if __name__ == "__main__":
    sys.exit(main())
