#!/usr/bin/env python3
"""Unit tests for check_events.py (standard library only, no root needed).

    python3 tests/e2e/test_check_events.py      (or: python3 -m unittest discover -s tests/e2e)

Uses the recorded sample in testdata/: manifest.tsv + tshark.tsv (+ a trimmed
tshark-payload.tsv) from a real `test_dcmtk.sh --traffic-only --keep` run,
events-good.jsonl (what a correct dicomon prints for it) and
events-bad.jsonl (deliberate errors). sample.pcapng is that capture minus
the 3 MiB store association, to test the tshark extraction itself.
"""
import contextlib
import copy
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TD = os.path.join(HERE, "testdata")
sys.path.insert(0, HERE)
import check_events as ce  # noqa: E402

MANIFEST = os.path.join(TD, "manifest.tsv")
TSHARK = os.path.join(TD, "tshark.tsv")
PAYLOAD = os.path.join(TD, "tshark-payload.tsv")
GOOD = os.path.join(TD, "events-good.jsonl")
BAD = os.path.join(TD, "events-bad.jsonl")
PORTS = {11112, 2762}


def run_checker(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = ce.main(list(argv))
    return rc, out.getvalue()


def load_events(path=GOOD):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="check-events-test.")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def write_events(self, events, extra=""):
        return self.write("events.jsonl", "".join(json.dumps(e) + "\n" for e in events) + extra)

    def check(self, events_path, manifest=MANIFEST, tshark=TSHARK, rc="0"):
        return run_checker("check", "--manifest", manifest, "--tshark", tshark,
                           "--payload", PAYLOAD, "--events", events_path, "--dicomon-rc", rc)

    def flow_end(self, events, name):
        """The flow_end of the manifest association `name` (by client port)."""
        port = self.ports[name]
        return [e for e in events if e.get("event") == "flow_end" and e.get("sport") == port][0]

    @property
    def ports(self):
        conns = ce.build_conns(ce.read_tsv(TSHARK), PORTS)
        pairs, _ = ce.pair(ce.read_manifest(MANIFEST), conns, PORTS)
        return {row["name"]: c.client[1] for row, c in pairs}


class SampleFiles(Base):
    def test_truth_mode_passes(self):
        rc, out = run_checker("truth", "--manifest", MANIFEST, "--tshark", TSHARK, "--payload", PAYLOAD)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.rstrip().endswith("e2e: 8 passed, 0 failed"), out)

    def test_ground_truth_numbers(self):
        conns = ce.build_conns(ce.read_tsv(TSHARK), PORTS)
        ce.walk_payload(ce.read_tsv(PAYLOAD), conns)
        pairs, problems = ce.pair(ce.read_manifest(MANIFEST), conns, PORTS)
        self.assertEqual(problems, [])
        got = {row["name"]: c for row, c in pairs}
        self.assertEqual(dict(got["echo"].pdus["orig"]),
                         {"A-ASSOCIATE-RQ": 1, "P-DATA-TF": 1, "A-RELEASE-RQ": 1})
        self.assertEqual(dict(got["echo"].pdus["reply"]),
                         {"A-ASSOCIATE-AC": 1, "P-DATA-TF": 1, "A-RELEASE-RP": 1})
        self.assertGreater(got["store"].pdus["orig"]["P-DATA-TF"], 150)  # 3 MiB in <=16 KiB PDUs
        self.assertEqual(dict(got["reject"].pdus["reply"]), {"A-ASSOCIATE-RJ": 1})
        self.assertEqual(got["abort"].pdus["orig"]["A-ABORT"], 1)
        self.assertEqual((got["tls-echo"].tls_offered, got["tls-echo"].tls_selected), ("TLS1.3", "TLS1.3"))
        self.assertEqual((got["tls-downgrade"].tls_offered, got["tls-downgrade"].tls_selected),
                         ("TLS1.3", "TLS1.2"))
        self.assertEqual((got["tls-legacy"].tls_offered, got["tls-legacy"].tls_selected), ("TLS1.2", "TLS1.2"))
        self.assertEqual((got["reject"].calling_ae, got["reject"].called_ae), ("MODALITY1", "WRONG_AE"))
        # the independent PDU-header walk agrees with the dissector
        for n in ("echo", "abort", "reject"):
            for d in ("orig", "reply"):
                self.assertEqual(+got[n].walk[d], +got[n].pdus[d], (n, d))
        self.assertGreater(got["store"].bytes("orig"), 3 * 1024 * 1024)

    def test_good_events_pass(self):
        rc, out = self.check(GOOD)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.rstrip().endswith("e2e: 9 passed, 0 failed"), out)

    def test_bad_events_fail_with_every_error_named(self):
        rc, out = self.check(BAD)
        self.assertEqual(rc, 1, out)
        p = self.ports
        expected = [
            "FAIL echo (client port %d): dicomon expected exactly 1 flow_end" % p["echo"],
            "FAIL echo (client port %d): dicomon midstream: got True" % p["echo"],
            "FAIL echo (client port %d): dicomon pdus.orig:" % p["echo"],
            "FAIL store (client port %d): dicomon bytes.orig:" % p["store"],
            "FAIL tls-echo (client port %d): dicomon expected exactly 1 flow_end" % p["tls-echo"],
            "FAIL tls-store (client port %d): dicomon calling_ae:" % p["tls-store"],
            "FAIL tls-store (client port %d): dicomon tls_selected:" % p["tls-store"],
            "FAIL abort (client port %d): dicomon state: got 'released'" % p["abort"],
            "FAIL abort (client port %d): dicomon pdus.orig:" % p["abort"],
            "FAIL reject (client port %d): dicomon state: got 'aborted', expected 'rejected'" % p["reject"],
            "FAIL reject (client port %d): dicomon called_ae:" % p["reject"],
            "FAIL reject (client port %d): dicomon pdus.reply: got {AB1}, expected {RJ1}" % p["reject"],
            "FAIL tls-downgrade (client port %d): dicomon tls_selected: got 'TLS1.3', expected 'TLS1.2'"
            % p["tls-downgrade"],
            "FAIL tls-legacy (client port %d): dicomon transport:" % p["tls-legacy"],
            "is not JSON",
            "last event is not the final",
            "flow_end for a connection the test did not make",
        ]
        for s in expected:
            self.assertIn(s, out)
        self.assertTrue(out.rstrip().endswith("e2e: 0 passed, 9 failed"), out)


class SingleMutations(Base):
    """Each single deviation from the good stream must fail, naming the
    association and the field."""

    CASES = [
        # (association, field path, new value, expected message fragment)
        ("echo", ("state",), "accepted", "state: got 'accepted'"),
        ("echo", ("reason",), "evict", "reason: got 'evict'"),
        ("echo", ("transport",), "tls", "transport: got 'tls'"),
        ("echo", ("midstream",), None, "midstream: got None"),
        ("echo", ("calling_ae",), "ECHOSCU", "calling_ae: got 'ECHOSCU'"),
        ("echo", ("called_ae",), "PACS_SCP  ", "called_ae: got 'PACS_SCP  '"),
        ("echo", ("src",), "10.213.0.6", "src: got '10.213.0.6'"),
        ("echo", ("dport",), "11112", "dport: got '11112'"),
        ("echo", ("pdus", "reply", "A-RELEASE-RP"), 2, "pdus.reply:"),
        ("echo", ("pdus", "orig", "A-ABORT"), 1, "pdus.orig:"),
        ("store", ("pdus", "orig", "P-DATA-TF"), 197, "pdus.orig:"),
        ("store", ("bytes", "reply"), 0, "bytes.reply: got 0"),
        ("store", ("bytes", "orig"), "3168365", "bytes.orig: got '3168365'"),
        ("reject", ("pdus", "reply"), {}, "pdus.reply: got {-}"),
        ("tls-echo", ("tls_offered",), None, "tls_offered: got None"),
        ("tls-echo", ("tls_offered",), "TLS1.2", "tls_offered: got 'TLS1.2'"),
        ("tls-echo", ("called_ae",), "PACS_SCP", "called_ae: got 'PACS_SCP'"),
        ("tls-echo", ("pdus", "orig"), {"A-ASSOCIATE-RQ": 1}, "pdus.orig:"),
        ("tls-echo", ("state",), "tls_hello", "state: got 'tls_hello'"),
        ("tls-echo", ("bytes",), None, "bytes.orig: got '<absent>'"),
        ("tls-legacy", ("tls_offered",), "TLS1.3", "tls_offered: got 'TLS1.3'"),
    ]

    def test_mutations(self):
        for name, path, value, frag in self.CASES:
            with self.subTest(assoc=name, field=".".join(path), value=value):
                ev = load_events()
                e = self.flow_end(ev, name)
                tgt = e
                for k in path[:-1]:
                    tgt = tgt[k]
                tgt[path[-1]] = value
                rc, out = self.check(self.write_events(ev))
                self.assertEqual(rc, 1, out)
                self.assertIn("FAIL %s (client port %d): dicomon %s" % (name, self.ports[name], frag), out)
                self.assertIn("e2e: 8 passed, 1 failed", out)

    def test_removed_field(self):
        ev = load_events()
        del self.flow_end(ev, "echo")["calling_ae"]
        rc, out = self.check(self.write_events(ev))
        self.assertEqual(rc, 1)
        self.assertIn("calling_ae: got '<absent>'", out)

    def test_tolerated_variants(self):
        """Zero counts, absent pdus on TLS and absent AE fields on TLS are fine."""
        ev = load_events()
        self.flow_end(ev, "echo")["pdus"]["orig"]["A-ABORT"] = 0
        tls = self.flow_end(ev, "tls-echo")
        del tls["pdus"], tls["calling_ae"], tls["called_ae"]
        self.flow_end(ev, "tls-store")["pdus"] = {"orig": {"P-DATA-TF": 0}}
        rc, out = self.check(self.write_events(ev))
        self.assertEqual(rc, 0, out)

    def test_reason_rst_accepted_when_capture_has_rst_and_fin(self):
        ev = load_events()
        self.flow_end(ev, "tls-echo")["reason"] = "fin"  # capture saw FIN (client) and RST
        rc, out = self.check(self.write_events(ev))
        self.assertEqual(rc, 0, out)

    def test_stream_problems(self):
        ev = load_events()
        rc, out = self.check(self.write_events(ev[1:]))  # no ready line
        self.assertEqual(rc, 1)
        self.assertIn("first event is not", out)
        rc, out = self.check(self.write_events(ev), rc="1")
        self.assertEqual(rc, 1)
        self.assertIn("dicomon exit status 1", out)
        rc, out = self.check(self.write_events(ev + [dict(self.flow_end(ev, "echo"), sport=1)]))
        self.assertEqual(rc, 1)
        self.assertIn("flow_end for a connection the test did not make", out)


class GroundTruthSanity(Base):
    def test_manifest_ae_mismatch_is_a_truth_failure(self):
        with open(MANIFEST) as f:
            m = f.read().replace("MODALITY1\tWRONG_AE", "MODALITY1\tOTHER_AE")
        rc, out = run_checker("truth", "--manifest", self.write("m.tsv", m), "--tshark", TSHARK)
        self.assertEqual(rc, 1)
        self.assertIn("FAIL reject", out)
        self.assertIn("tool was told 'MODALITY1'/'OTHER_AE'", out)

    def test_tool_failure_is_reported(self):
        with open(MANIFEST) as f:
            lines = f.read().splitlines()
        f = lines[1].split("\t")
        f[6], f[7] = "0", "rc=1"
        lines[1] = "\t".join(f)
        rc, out = run_checker("truth", "--manifest", self.write("m.tsv", "\n".join(lines) + "\n"),
                              "--tshark", TSHARK)
        self.assertEqual(rc, 1)
        self.assertIn("FAIL echo (client port %d): DCMTK tool: rc=1" % self.ports["echo"], out)

    def test_extra_and_missing_connections(self):
        with open(MANIFEST) as f:
            lines = f.read().splitlines()
        rc, out = run_checker("truth", "--manifest", self.write("m.tsv", "\n".join(lines[:-1]) + "\n"),
                              "--tshark", TSHARK)
        self.assertEqual(rc, 1)
        self.assertIn("more connection(s)", out)
        rc, out = run_checker("truth", "--manifest", self.write("m2.tsv", "\n".join(lines + [lines[-1]]) + "\n"),
                              "--tshark", TSHARK)
        self.assertEqual(rc, 1)
        self.assertIn("no TCP connection to port 2762", out)

    def test_dissector_vs_walk_mismatch(self):
        with open(TSHARK) as f:
            rows = f.read().splitlines()
        hdr = rows[0].split("\t")
        i = hdr.index("dicom.pdu.type")
        port = str(self.ports["echo"])
        for n, r in enumerate(rows[1:], 1):
            f = r.split("\t")
            if f[hdr.index("tcp.srcport")] == port and f[i] == "0x05":  # A-RELEASE-RQ -> A-ABORT
                f[i] = "0x07"
                rows[n] = "\t".join(f)
                break
        else:
            self.fail("no A-RELEASE-RQ frame found")
        t = self.write("t.tsv", "\n".join(rows) + "\n")
        rc, out = run_checker("truth", "--manifest", MANIFEST, "--tshark", t, "--payload", PAYLOAD)
        self.assertEqual(rc, 1)
        self.assertIn("!= PDU-header walk", out)


def synth(rows):
    """Build connections from synthetic rows (dicts with the relevant fields)."""
    full = []
    for i, r in enumerate(rows, 1):
        d = {k: "" for k in ce.FIELDS}
        d.update({"frame.number": str(i), "frame.time_relative": "%f" % (i / 1000), "tcp.stream": "0"})
        d.update(r)
        full.append(d)
    return ce.build_conns(full, PORTS)[0]


def seg(src, sport, dst, dport, flags, seq, ln, **extra):
    r = {"ip.src": src, "tcp.srcport": str(sport), "ip.dst": dst, "tcp.dstport": str(dport),
         "tcp.flags": flags, "tcp.seq": str(seq), "tcp.len": str(ln)}
    r.update(extra)
    return r


C, S = "10.213.0.2", "10.213.0.6"


class Synthetic(unittest.TestCase):
    def test_retransmission_counts_unique_bytes(self):
        c = synth([
            seg(C, 5000, S, 11112, "0x0002", 0, 0),
            seg(S, 11112, C, 5000, "0x0012", 0, 0),
            seg(C, 5000, S, 11112, "0x0018", 1, 100, **{"dicom.pdu.type": "0x01"}),
            seg(C, 5000, S, 11112, "0x0018", 1, 100, **{"tcp.analysis.retransmission": "1"}),
            seg(C, 5000, S, 11112, "0x0018", 101, 50),
            seg(C, 5000, S, 11112, "0x0011", 151, 0),
        ])
        self.assertEqual(c.tcp_len["orig"], 250)
        self.assertEqual(c.bytes("orig"), 150)
        self.assertEqual(c.expected_reason(), {"fin"})

    def test_no_syn_guesses_client_from_port(self):
        c = synth([seg(S, 11112, C, 5001, "0x0018", 1, 10), seg(C, 5001, S, 11112, "0x0018", 1, 20)])
        self.assertFalse(c.syn_seen)
        self.assertEqual(c.client, (C, 5001))
        self.assertEqual((c.bytes("orig"), c.bytes("reply")), (20, 10))

    def test_tls_versions(self):
        c = synth([
            seg(C, 5002, S, 2762, "0x0002", 0, 0),
            seg(C, 5002, S, 2762, "0x0018", 1, 300, **{
                "tls.handshake.type": "1",
                "tls.handshake.extensions.supported_version": "0x3a3a,0x0304,0x0303",  # GREASE first
                "tls.handshake.version": "0x0303"}),
            seg(S, 2762, C, 5002, "0x0018", 1, 1200, **{
                "tls.handshake.type": "2,11,12,14", "tls.handshake.version": "0x0303"}),
        ])
        self.assertEqual((c.tls_offered, c.tls_selected), ("TLS1.3", "TLS1.2"))
        c = synth([
            seg(C, 5003, S, 2762, "0x0002", 0, 0),
            seg(C, 5003, S, 2762, "0x0018", 1, 200, **{"tls.handshake.type": "1",
                                                        "tls.handshake.version": "0x0301"}),
        ])
        self.assertEqual((c.tls_offered, c.tls_selected), ("TLS1.0", None))

    def test_multiple_pdus_in_one_frame(self):
        c = synth([
            seg(C, 5004, S, 11112, "0x0002", 0, 0),
            seg(C, 5004, S, 11112, "0x0018", 1, 300, **{"dicom.pdu.type": "0x04,0x04,0x05"}),
            seg(S, 11112, C, 5004, "0x0014", 1, 0),
        ])
        self.assertEqual(dict(c.pdus["orig"]), {"P-DATA-TF": 2, "A-RELEASE-RQ": 1})
        self.assertEqual(c.expected_reason(), {"rst"})

    def test_walker(self):
        pdus = bytes.fromhex("0500000000040000 0000".replace(" ", "")) + bytes.fromhex("07000000000400000000")
        conns = {0: synth([seg(C, 5005, S, 11112, "0x0002", 0, 0)])}
        rows = [{"tcp.stream": "0", "tcp.srcport": "5005", "tcp.dstport": "11112",
                 "tcp.seq": "1", "tcp.len": "7", "tcp.payload": pdus[:7].hex()},
                {"tcp.stream": "0", "tcp.srcport": "5005", "tcp.dstport": "11112",
                 "tcp.seq": "8", "tcp.len": "13", "tcp.payload": pdus[7:].hex()},
                {"tcp.stream": "0", "tcp.srcport": "5005", "tcp.dstport": "11112",  # retransmission
                 "tcp.seq": "1", "tcp.len": "7", "tcp.payload": pdus[:7].hex()}]
        ce.walk_payload(rows, conns)
        self.assertEqual(dict(conns[0].walk["orig"]), {"A-RELEASE-RQ": 1, "A-ABORT": 1})


@unittest.skipUnless(shutil.which("tshark"), "tshark not installed")
class Extract(Base):
    def test_extract_sample_pcap_matches_recorded_truth(self):
        out = os.path.join(self.tmp, "t.tsv")
        pl = os.path.join(self.tmp, "p.tsv")
        subprocess.run([sys.executable, os.path.join(HERE, "check_events.py"), "extract",
                        "--pcap", os.path.join(TD, "sample.pcapng"), "--out", out, "--payload-out", pl],
                       check=True, stderr=subprocess.DEVNULL)
        conns = ce.build_conns(ce.read_tsv(out), PORTS)
        ce.walk_payload(ce.read_tsv(pl), conns)
        fresh = {c.client[1]: c for c in conns.values()}
        recorded = {c.client[1]: c for c in ce.build_conns(ce.read_tsv(TSHARK), PORTS).values()}
        self.assertEqual(len(fresh), 6)  # sample.pcapng = the recorded run minus store and tls-store
        for port, c in fresh.items():
            r = recorded[port]
            self.assertEqual((dict(c.pdus["orig"]), dict(c.pdus["reply"])),
                             (dict(r.pdus["orig"]), dict(r.pdus["reply"])), port)
            self.assertEqual((c.bytes("orig"), c.bytes("reply")), (r.bytes("orig"), r.bytes("reply")), port)
            self.assertEqual((c.tls_offered, c.tls_selected), (r.tls_offered, r.tls_selected), port)
            self.assertEqual((c.calling_ae, c.called_ae), (r.calling_ae, r.called_ae), port)
            if c.walk is not None:  # cleartext: dissector == PDU-header walk
                for d in ("orig", "reply"):
                    self.assertEqual(+c.walk[d], +c.pdus[d], (port, d))
        self.assertEqual(sum(c.walk is not None for c in fresh.values()), 3)  # echo, abort, reject


@unittest.skipUnless(shutil.which("promtool"), "promtool not installed (prometheus package)")
class Metrics(Base):
    """check --metrics: a /metrics scrape against the recorded ground truth."""

    def scrape(self, skew=None, dup_type=False, no_help=False):
        manifest = ce.read_manifest(MANIFEST)
        pairs, _ = ce.pair(manifest, ce.build_conns(ce.read_tsv(TSHARK), PORTS), PORTS)
        out = []

        def fam(name, typ="counter"):
            if not no_help:
                out.append("# HELP %s Test family." % name)
            out.append("# TYPE %s %s" % (name, typ))

        fam("dicomon_pdus_total")
        for d in ("orig", "reply"):
            for name in ce.PDU_NAMES.values():
                v = sum(c.pdus[d][name] for _, c in pairs if c is not None)
                if skew == (name, d):
                    v += 1
                # split over two interfaces: the checker sums them
                for ifn, part in (("gw-mod", v - v // 2), ("gw-pacs", v // 2)):
                    out.append('dicomon_pdus_total{interface="%s",type="%s",direction="%s"} %d'
                               % (ifn, name, d, part))
        fam("dicomon_association_events_total")
        for t, ev in (("cleartext", "new_cleartext"), ("tls", "new_tls")):
            v = sum(1 for row in manifest if row["transport"] == t) + (skew == ev)
            out.append('dicomon_association_events_total{interface="gw-mod",event="%s"} %d' % (ev, v))
        fam("dicomon_associations_total")
        outcome_of = {"released": "released", "aborted": "aborted", "rejected": "rejected",
                      "tls_established": "incomplete"}
        want = {}
        for row in manifest:
            k = (row["transport"], outcome_of[row["state"]])
            want[k] = want.get(k, 0) + 1
        for (t, o), v in sorted(want.items()):
            v += (skew == ("assoc", t, o))
            out.append('dicomon_associations_total{transport="%s",outcome="%s"} %d' % (t, o, v))
        fam("dicomon_tls_associations_total")
        tls = {}
        for row, c in pairs:
            if row["transport"] == "tls":
                tls[c.tls_selected] = tls.get(c.tls_selected, 0) + 1
        for ver, v in sorted(tls.items()):
            if skew == "tls-version":
                ver = "TLS1.0"
            out.append('dicomon_tls_associations_total{version="%s"} %d' % (ver, v))
        fam("dicomon_association_rejects_total")
        out.append('dicomon_association_rejects_total{source="service-user",reason="7",'
                   'reason_name="called-AE-title-not-recognized"} %d'
                   % (sum(1 for row in manifest if row["state"] == "rejected") + (skew == "reject")))
        fam("dicomon_vlan_associations_total")
        out.append('dicomon_vlan_associations_total{vlan="none",transport="cleartext"} %d'
                   % (len(manifest) - (skew == "vlan")))
        fam("dicomon_active_associations", "gauge")
        out.append('dicomon_active_associations{transport="tls"} %d' % (skew == "active"))
        fam("dicomon_association_duration_seconds", "histogram")
        n = len(manifest) + (skew == "duration")
        out.append('dicomon_association_duration_seconds_bucket{le="+Inf"} %d' % n)
        out.append("dicomon_association_duration_seconds_sum 1.5")
        out.append("dicomon_association_duration_seconds_count %d" % n)
        fam("dicomon_packets_total")
        out.append('dicomon_packets_total{interface="gw-mod",class="dicom"} 100')
        if dup_type:
            out.append("# TYPE dicomon_packets_total counter")
        fam("dicomon_ringbuf_reserve_failures_total")
        out.append('dicomon_ringbuf_reserve_failures_total{interface="gw-mod"} %d' % (skew == "ringbuf"))
        return self.write("metrics.txt", "\n".join(out) + "\n")

    def problems(self, path):
        manifest = ce.read_manifest(MANIFEST)
        pairs, _ = ce.pair(manifest, ce.build_conns(ce.read_tsv(TSHARK), PORTS), PORTS)
        return ce.metrics_problems(path, manifest, pairs)

    def test_matching_scrape_passes(self):
        self.assertEqual(self.problems(self.scrape()), [])
        rc, out = run_checker("check", "--manifest", MANIFEST, "--tshark", TSHARK, "--payload", PAYLOAD,
                              "--events", GOOD, "--dicomon-rc", "0", "--metrics", self.scrape())
        self.assertEqual(rc, 0, out)
        self.assertIn("(/metrics)", out)

    def test_each_mismatch_fails(self):
        for skew, needle in ((("P-DATA-TF", "orig"), "type=P-DATA-TF,direction=orig"),
                             (("A-ASSOCIATE-RJ", "reply"), "type=A-ASSOCIATE-RJ,direction=reply"),
                             ("new_tls", "event=new_tls"), ("new_cleartext", "event=new_cleartext"),
                             ("ringbuf", "ring buffer"), ("active", "active_associations"),
                             ("duration", "duration_seconds_count"), ("reject", "rejects_total"),
                             ("vlan", "vlan=none")):
            probs = self.problems(self.scrape(skew=skew))
            self.assertEqual(len(probs), 1, (skew, probs))
            self.assertIn(needle, probs[0])
        # a wrong outcome count also breaks the total; a wrong TLS version is two problems
        probs = self.problems(self.scrape(skew=("assoc", "cleartext", "aborted")))
        self.assertIn("transport=cleartext,outcome=aborted", probs[0])
        self.assertIn("sums to", probs[1])
        probs = self.problems(self.scrape(skew="tls-version"))
        self.assertTrue(any("version=TLS1.3" in x for x in probs), probs)

    def test_bad_scrapes_fail(self):
        self.assertIn("typed twice", self.problems(self.scrape(dup_type=True))[0])
        self.assertIn("promtool", self.problems(self.scrape(no_help=True))[0])
        self.assertIn("cannot read", self.problems(os.path.join(self.tmp, "absent"))[0])
        rc, out = run_checker("check", "--manifest", MANIFEST, "--tshark", TSHARK, "--payload", PAYLOAD,
                              "--events", GOOD, "--dicomon-rc", "0",
                              "--metrics", self.scrape(skew=("A-ABORT", "orig")))
        self.assertEqual(rc, 1)
        self.assertIn("FAIL (/metrics)", out)


if __name__ == "__main__":
    unittest.main(verbosity=1)
