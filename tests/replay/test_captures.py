#!/usr/bin/env python3
"""Tests of the committed ground-truth captures and of check_assoc.py's
replay paths (no root, no dicomon; tshark needed, else skipped).

    python3 tests/replay/test_captures.py

- every capture in captures/ passes `check_assoc.py extract` + `truth`
  (the oracle agrees with the manifest), with the facts the README quotes
  (link types, VLAN tags, IPv6, TLS versions, association counts);
- a flow_end stream built from tshark's view (what a correct
  `dicomon replay --json` prints) passes `check --replay`, and each single
  deviation fails naming the association and the field: pcap_filename,
  pcap_cnt, capture_end, TLS records, HTTP connections, VLAN ids, nmap's
  fingerprint, pairing of parallel guesses, a flow_end for a port probe;
- manifest deviations fail the truth (TLS versions, HTTP URI, VLAN,
  open-at-end, the called AE of a guess).
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CAPS = os.path.join(HERE, "captures")
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import check_assoc as ca  # noqa: E402

GROUPS = {  # name: (file, link type, associations, http rows)
    "dcmtk-qr": ("dcmtk-qr.pcapng", "EN10MB", 10, 1),
    "tls": ("tls.pcap", "EN10MB", 4, 0),
    "ports": ("ports.pcapng", "LINUX_SLL2", 6, 3),
    "nmap": ("nmap.pcap", "LINUX_SLL", 11, 0),
    "dicomweb": ("dicomweb.pcapng", "EN10MB", 0, 4),
    "ipv6": ("ipv6.pcap", "EN10MB", 7, 0),
    "vlan": ("vlan.pcapng", "EN10MB", 5, 1),
}
_EXTRACTS = {}
TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="test-captures.")
    ca.main(["profile", "--out", os.path.join(TMP, "many.cfg")])


def tearDownModule():
    shutil.rmtree(TMP)


def extract(name):
    """(tshark.jsonl, payload.tsv) of one committed capture, once."""
    if name not in _EXTRACTS:
        t, pl = os.path.join(TMP, name + ".jsonl"), os.path.join(TMP, name + ".tsv")
        subprocess.run([sys.executable, ca.__file__, "extract", "--pcap", os.path.join(CAPS, GROUPS[name][0]),
                        "--ports-file", os.path.join(CAPS, name + ".ports"), "--out", t, "--payload-out", pl],
                       check=True, stderr=subprocess.DEVNULL)
        _EXTRACTS[name] = (t, pl)
    return _EXTRACTS[name]


def run_checker(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = ca.main(list(argv))
    return rc, out.getvalue()


def model(name, manifest=None):
    man = ca.read_manifest(manifest or os.path.join(CAPS, name + ".manifest.tsv"))
    t, pl = extract(name)
    conns = ca.build_conns(ca.read_jsonl(t), {r["dport"] for r in man})
    ca.walk_payload(ca.read_tsv(pl), conns)
    pairs, problems = ca.pair(man, conns)
    return man, conns, pairs, problems


def flow_end(row, c, capture):
    """What a correct `dicomon replay --json CAPTURE` prints for one association."""
    t = c.ts
    last = max(c.frames)
    e = {"event": "flow_end", "src": c.client[0], "sport": c.client[1], "dst": c.server[0],
         "dport": c.server[1], "vlan": list(next(iter(c.vlans))) if c.vlans else [],
         "pcap_filename": capture, "pcap_cnt": last,
         "reason": "capture_end" if row["expect"].get("open_at_end") else "fin"}
    if ca.row_kind(row) == "tls":
        off, sel = c.tls_versions()
        e.update(transport="tls", tls_offered=off, tls_selected=sel, calling_ae=None, called_ae=None,
                 outcome=None, commands={}, statuses={}, presentation_contexts=[],
                 pdus={"orig": {}, "reply": {}})
        return e
    ab = t.abort_info()
    if ab is not None:
        ab = dict(ab, reason_name=ab["reason_name"] or "service-user")
    fp = row["expect"].get("fingerprint") or ca.fingerprint_of(t.implementation()["orig"]["class_uid"])
    ver = (t.implementation()["orig"]["class_uid"] or "").replace("1.2.276.0.7230010.3.0.", "")
    e.update(transport="cleartext", calling_ae=t.rq["calling"], called_ae=t.rq["called"],
             outcome=t.outcome(), reject=t.reject(), abort=ab, commands=dict(+t.commands),
             statuses=dict(+t.statuses), move_destinations=list(t.move_destinations),
             move_originators=list(t.move_originators), implementation=t.implementation(),
             max_pdu=t.max_pdu(), fingerprint={"name": fp, "version": ver} if fp else None,
             presentation_contexts=t.contexts(),
             pdus={d: dict(+t.pdus[d]) for d in ("orig", "reply")})
    return e


def good_events(name):
    capture = os.path.join(CAPS, GROUPS[name][0])
    _, _, pairs, problems = model(name)
    assert not problems, problems
    ev = [flow_end(row, c, capture) for row, c in pairs if ca.row_kind(row) != "http"]
    ev.append({"event": "replay", "files": [{"file": capture}]})
    ev.append({"event": "stats"})
    return ev


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test-captures-case.")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, fname, text):
        p = os.path.join(self.tmp, fname)
        with open(p, "w") as f:
            f.write(text)
        return p

    def truth(self, name, manifest=None):
        t, pl = extract(name)
        return run_checker("truth", "--manifest", manifest or os.path.join(CAPS, name + ".manifest.tsv"),
                           "--tshark", t, "--payload", pl, "--profile", os.path.join(TMP, "many.cfg"))

    def check(self, name, events, rc=0):
        t, pl = extract(name)
        ev = self.write("events.jsonl", "".join(json.dumps(e) + "\n" for e in events))
        return run_checker("check", "--manifest", os.path.join(CAPS, name + ".manifest.tsv"),
                           "--tshark", t, "--payload", pl, "--profile", os.path.join(TMP, "many.cfg"),
                           "--events", ev, "--dicomon-rc", str(rc),
                           "--replay", os.path.join(CAPS, GROUPS[name][0]))

    def manifest_with(self, name, rowname, **changes):
        path = os.path.join(CAPS, name + ".manifest.tsv")
        with open(path) as f:
            hdr = f.readline().rstrip("\n").split("\t")
        rows = ca.read_tsv(path)
        for r in rows:
            if r["name"] == rowname:
                for k, v in changes.items():
                    if k == "expect":
                        x = json.loads(r["expect"])
                        x.update(v)
                        r["expect"] = json.dumps(x)
                    else:
                        r[k] = v
        return self.write("m.tsv", "\t".join(hdr) + "\n" +
                          "".join("\t".join(r[h] for h in hdr) + "\n" for r in rows))


@unittest.skipUnless(shutil.which("tshark"), "tshark not installed")
class Oracle(Base):
    def test_every_capture_passes_truth(self):
        for name, (fname, _, n_assoc, n_http) in GROUPS.items():
            with self.subTest(capture=name):
                rc, out = self.truth(name)
                self.assertEqual(rc, 0, out)
                self.assertTrue(out.rstrip().endswith("assoc: %d passed, 0 failed" % (n_assoc + n_http)), out)
                man = ca.read_manifest(os.path.join(CAPS, name + ".manifest.tsv"))
                self.assertEqual(sum(ca.row_kind(r) != "http" for r in man), n_assoc)

    def test_link_types(self):
        for name, (fname, lt, _, _) in GROUPS.items():
            with self.subTest(capture=name):
                out = subprocess.run(["tshark", "-r", os.path.join(CAPS, fname), "-c", "1", "-T", "fields",
                                      "-e", "frame.protocols"], capture_output=True, text=True).stdout
                first = out.split(":", 1)[0].strip()
                self.assertEqual(first, {"EN10MB": "eth", "LINUX_SLL": "sll", "LINUX_SLL2": "sll"}[lt], out)

    def test_facts(self):
        _, conns, pairs, _ = model("vlan")
        for row, c in pairs:
            self.assertEqual(c.vlans, {(100,)}, row["name"])
        _, _, pairs, _ = model("ipv6")
        self.assertTrue(all(":" in c.client[0] and ":" in c.server[0] for _, c in pairs))
        _, _, pairs, _ = model("tls")
        v = {row["name"]: c.tls_versions() for row, c in pairs if ca.row_kind(row) == "tls"}
        self.assertEqual(v, {"tls-echo": ("TLS1.3", "TLS1.3"), "tls-store": ("TLS1.3", "TLS1.3"),
                             "tls12-echo": ("TLS1.2", "TLS1.2")})
        _, conns, pairs, _ = model("dcmtk-qr")
        c = dict((row["name"], c) for row, c in pairs)
        self.assertGreaterEqual(c["manypc"].ts.rq_segments, 5)
        self.assertEqual(c["open-at-end"].fin_rst, 0)
        # the 300 KiB file: P-DATA over many segments
        self.assertGreater(c["store"].payload["orig"], 300 * 1024)
        _, conns, pairs, _ = model("nmap")
        man = ca.read_manifest(os.path.join(CAPS, "nmap.manifest.tsv"))
        self.assertEqual(len(ca.port_probes(man, conns)), 2)  # nmap's SYN scan, one per port

    def test_tls_and_no_association_are_said(self):
        rc, out = self.truth("tls")
        self.assertIn("note tls-echo: TLS: tshark sees the handshake only (offered TLS1.3, selected TLS1.3); "
                      "calling/called AE MODALITY1/PACS_TLS", out)
        rc, out = self.truth("dicomweb")
        self.assertIn("note: the manifest lists no association", out)

    def test_manifest_deviations(self):
        cases = [
            ("tls", "tls12-echo", {"expect": {"tls_selected": "TLS1.3"}}, "tshark: tls_selected TLS1.2, expected TLS1.3"),
            ("dicomweb", "qido", {"expect": {"uri": "/dicom-web/series"}}, "tshark: HTTP request(s)"),
            ("vlan", "echo", {"expect": {"vlan": [200]}}, "tshark: VLAN tags [(100,)] on the connection's frames"),
            ("dcmtk-qr", "echo", {"expect": {"open_at_end": True}}, "should be open when the capture ends"),
            ("nmap", "brute-PACS", {"called_ae": "PACS2"}, "no TCP connection"),
            ("ipv6", "echo", {"initiator": "10.231.5.2"}, "no TCP connection 10.231.5.2 -> port 104"),
        ]
        for name, rowname, ch, frag in cases:
            with self.subTest(capture=name, row=rowname):
                rc, out = self.truth(name, self.manifest_with(name, rowname, **ch))
                self.assertEqual(rc, 1, out)
                self.assertIn(frag, out)

    def test_parallel_guesses_pair_on_called_ae(self):
        path = os.path.join(CAPS, "nmap.manifest.tsv")
        with open(path) as f:
            lines = f.read().splitlines()
        brute = [ln for ln in lines if ln.startswith("brute-")]
        other = [ln for ln in lines if not ln.startswith("brute-")]
        rc, out = self.truth("nmap", self.write("m.tsv", "\n".join(other + brute[::-1]) + "\n"))
        self.assertEqual(rc, 0, out)  # any order
        unkeyed = [ln.replace(',"pair_on":"called_ae"', "") for ln in brute[::-1]]
        rc, out = self.truth("nmap", self.write("m.tsv", "\n".join(other + unkeyed) + "\n"))
        self.assertEqual(rc, 1, out)  # start order: the AE titles disagree
        self.assertIn("tshark: RQ calling/called", out)


@unittest.skipUnless(shutil.which("tshark"), "tshark not installed")
class ReplayEvents(Base):
    def test_good_streams_pass(self):
        for name in GROUPS:
            with self.subTest(capture=name):
                rc, out = self.check(name, good_events(name))
                self.assertEqual(rc, 0, out)

    def fe(self, ev, name, rowname):
        _, _, pairs, _ = model(name)
        client = dict((row["name"], c.client) for row, c in pairs)[rowname]
        return [e for e in ev if e.get("event") == "flow_end" and (e["src"], e["sport"]) == client][0]

    def expect_fail(self, name, ev, frag, rc=0):
        rc, out = self.check(name, ev, rc)
        self.assertEqual(rc, 1, out)
        self.assertIn(frag, out)
        return out

    def test_single_deviations(self):
        cases = [  # capture, association, field, value, message fragment
            ("dcmtk-qr", "echo", "pcap_filename", "other.pcap", "dicomon pcap_filename: got 'other.pcap'"),
            ("dcmtk-qr", "echo", "pcap_cnt", None, "dicomon pcap_cnt: got None, expected a packet number"),
            ("dcmtk-qr", "echo", "pcap_cnt", 1, "dicomon pcap_cnt: got 1, before the association's first frame"),
            ("dcmtk-qr", "find", "pcap_cnt", "last", "dicomon pcap_cnt: got 'last'"),
            ("dcmtk-qr", "open-at-end", "reason", "fin", "dicomon reason: got 'fin', expected 'capture_end'"),
            ("dcmtk-qr", "get", "commands", {"C-GET-RQ": 1}, "dicomon commands: got {C-GET-RQ=1}"),
            ("tls", "tls-echo", "calling_ae", "MODALITY1", "dicomon calling_ae: got 'MODALITY1', expected null"),
            ("tls", "tls12-echo", "tls_offered", "TLS1.3", "dicomon tls_offered: got 'TLS1.3', expected 'TLS1.2'"),
            ("tls", "tls-store", "transport", "cleartext", "dicomon transport: got 'cleartext', expected 'tls'"),
            ("tls", "tls-store", "commands", {"C-STORE-RQ": 2}, "dicomon commands: got {'C-STORE-RQ': 2}"),
            ("vlan", "store", "vlan", [], "dicomon vlan: got [], expected [100]"),
            # addresses as tshark prints them (RFC 5952): another spelling is another connection
            ("ipv6", "move-sub", "src", "fd00:dc:5:2:0:0:0:2",
             "flow_end for a connection the test did not make: [fd00:dc:5:2:0:0:0:2]:"),
            ("nmap", "dicom-ping", "fingerprint", {"name": "DCMTK", "version": "3.6.2"},
             "dicomon fingerprint.name: got 'DCMTK', expected 'nmap'"),
            ("ports", "orthanc-store", "called_ae", "ORTHANC", "dicomon called_ae: got 'ORTHANC'"),
        ]
        for name, rowname, field, value, frag in cases:
            with self.subTest(capture=name, assoc=rowname, field=field):
                ev = good_events(name)
                self.fe(ev, name, rowname)[field] = value
                out = self.expect_fail(name, ev, frag)
                self.assertIn("FAIL %s (client " % rowname, out)

    def test_stream_deviations(self):
        ev = good_events("dcmtk-qr")
        del ev[0]["pcap_cnt"]
        self.expect_fail("dcmtk-qr", ev, "1 event line(s) without pcap_filename/pcap_cnt")
        self.expect_fail("dcmtk-qr", good_events("dcmtk-qr"), "dicomon replay exit status 6", rc=6)
        # an association for an HTTP request, and for nmap's SYN probe
        _, conns, pairs, _ = model("dicomweb")
        c = pairs[0][1]
        ev = good_events("dicomweb")
        ev.insert(0, {"event": "flow_end", "src": c.client[0], "sport": c.client[1], "dst": c.server[0],
                      "dport": 8042, "pcap_filename": "dicomweb.pcapng", "pcap_cnt": max(c.frames)})
        self.expect_fail("dicomweb", ev, "1 flow_end(s) for an HTTP connection")
        man, conns, _, _ = model("nmap")
        probe = ca.port_probes(man, conns)[0]
        ev = good_events("nmap")
        ev.insert(0, {"event": "flow_end", "src": probe.client[0], "sport": probe.client[1],
                      "dst": probe.server[0], "dport": probe.server[1], "pcap_filename": "nmap.pcap",
                      "pcap_cnt": max(probe.frames)})
        self.expect_fail("nmap", ev, "flow_end for a connection the test did not make")
        # no ready line is fine for replay; a missing flow_end is not
        ev = [e for e in good_events("ipv6") if e.get("event") == "flow_end"][1:]
        self.expect_fail("ipv6", ev, "dicomon expected exactly 1 flow_end for [fd00:dc:5:1::2]:")


if __name__ == "__main__":
    unittest.main(verbosity=1)
