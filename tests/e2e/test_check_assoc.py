#!/usr/bin/env python3
"""Unit tests for check_assoc.py (standard library only, no root needed).

    python3 tests/e2e/test_check_assoc.py

Uses the recorded run in testdata/assoc/: manifest.tsv, tshark-assoc.jsonl
and tshark-payload.tsv from `test_assoc.sh --keep` (extracted from
sample.pcapng, the whole capture), storescu-many.cfg (the 120-context
profile), events-good.jsonl (what a correct dicomon prints for it) and
events-bad.jsonl (deliberate errors), both from make_events.py.
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
TD = os.path.join(HERE, "testdata", "assoc")
sys.path.insert(0, HERE)
import check_assoc as ca  # noqa: E402

MANIFEST = os.path.join(TD, "manifest.tsv")
TSHARK = os.path.join(TD, "tshark-assoc.jsonl")
PAYLOAD = os.path.join(TD, "tshark-payload.tsv")
PROFILE = os.path.join(TD, "storescu-many.cfg")
GOOD = os.path.join(TD, "events-good.jsonl")
BAD = os.path.join(TD, "events-bad.jsonl")
NAMES = ["echo", "store", "find", "move", "move-sub", "manypc", "reject", "abort"]

VERIF = "1.2.840.10008.1.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
DCMTK_UID = "1.2.276.0.7230010.3.0.3.6.7"


def run_checker(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = ca.main(list(argv))
    return rc, out.getvalue()


def read(path):
    with open(path) as f:
        return f.read()


def load_events(path=GOOD):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def recorded():
    man = ca.read_manifest(MANIFEST)
    conns = ca.build_conns(ca.read_jsonl(TSHARK), {r["dport"] for r in man})
    ca.walk_payload(ca.read_tsv(PAYLOAD), conns)
    pairs, problems = ca.pair(man, conns)
    return pairs, problems


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="check-assoc-test.")

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
        return run_checker("check", "--manifest", manifest, "--tshark", tshark, "--payload", PAYLOAD,
                           "--profile", PROFILE, "--events", events_path, "--dicomon-rc", rc)

    def truth(self, manifest=MANIFEST, tshark=TSHARK, payload=PAYLOAD):
        args = ["truth", "--manifest", manifest, "--tshark", tshark, "--profile", PROFILE]
        if payload:
            args += ["--payload", payload]
        return run_checker(*args)

    @property
    def clients(self):
        pairs, _ = recorded()
        return {row["name"]: c.client for row, c in pairs}

    def where(self, name):
        return "%s (client %s:%d)" % ((name,) + self.clients[name])

    def flow_end(self, events, name):
        src, sport = self.clients[name]
        return [e for e in events if e.get("event") == "flow_end" and e.get("sport") == sport
                and e.get("src") == src][0]


class GroundTruth(Base):
    """What tshark saw in the recorded run (the numbers the report quotes)."""

    def setUp(self):
        super().setUp()
        pairs, self.problems = recorded()
        self.c = {row["name"]: c for row, c in pairs}

    def test_pairing(self):
        self.assertEqual(self.problems, [])
        self.assertEqual(sorted(self.c), sorted(NAMES))
        self.assertTrue(all(c is not None for c in self.c.values()))
        self.assertEqual(self.c["move-sub"].client[0], "10.217.0.6")  # opened by the pacs
        self.assertEqual(self.c["move-sub"].server, ("10.217.0.2", 11113))

    def test_echo(self):
        t = self.c["echo"].ts
        self.assertEqual(t.contexts(), [{"id": 1, "abstract_syntax": VERIF,
                                         "transfer_syntaxes": ["1.2.840.10008.1.2"],
                                         "result": "acceptance",
                                         "accepted_transfer_syntax": "1.2.840.10008.1.2"}])
        self.assertEqual(t.implementation(), {"orig": {"class_uid": DCMTK_UID, "version": "OFFIS_DCMTK_367"},
                                              "reply": {"class_uid": DCMTK_UID, "version": "OFFIS_DCMTK_367"}})
        self.assertEqual(t.max_pdu(), {"orig": 16384, "reply": 16384})
        self.assertEqual(dict(t.commands), {"C-ECHO-RQ": 1, "C-ECHO-RSP": 1})
        self.assertEqual(dict(t.statuses), {"success": 1})
        self.assertEqual(t.outcome(), "released")

    def test_store_find_move(self):
        self.assertEqual(dict(self.c["store"].ts.commands), {"C-STORE-RQ": 3, "C-STORE-RSP": 3})
        self.assertEqual([pc["id"] for pc in self.c["store"].ts.contexts()], [1, 3])
        f = self.c["find"].ts
        self.assertEqual(dict(f.commands), {"C-FIND-RQ": 1, "C-FIND-RSP": 6})
        self.assertEqual(dict(f.statuses), {"pending": 5, "success": 1})
        m = self.c["move"].ts
        self.assertEqual(dict(m.commands), {"C-MOVE-RQ": 1, "C-MOVE-RSP": 2})
        self.assertEqual(dict(m.statuses), {"pending": 1, "success": 1})
        self.assertEqual((m.move_destinations, m.move_originators), (["MOVEDEST"], []))
        s = self.c["move-sub"].ts
        self.assertEqual((s.rq["calling"], s.rq["called"]), ("PACS_QR", "MOVEDEST"))
        self.assertEqual((s.move_destinations, s.move_originators), ([], ["MODALITY1"]))
        self.assertEqual(dict(s.commands), {"C-STORE-RQ": 1, "C-STORE-RSP": 1})

    def test_large_rqs(self):
        for name, n_acc in (("manypc", 59), ("move-sub", 120)):
            c = self.c[name]
            pcs = c.ts.contexts()
            self.assertEqual(len(pcs), 120, name)
            self.assertEqual([pc["id"] for pc in pcs], list(range(1, 240, 2)), name)
            self.assertEqual(sum(pc["result"] == "acceptance" for pc in pcs), n_acc, name)
            self.assertGreaterEqual(c.ts.rq_segments, 5, name)
            self.assertEqual(c.ts.rq_segments, c.raw.rq_segments, name)
        pcs = self.c["manypc"].ts.contexts()
        self.assertEqual(pcs[-1]["abstract_syntax"], ca.PROFILE_UNKNOWN)
        self.assertEqual(pcs[-1]["result"], "abstract-syntax-not-supported")
        self.assertIsNone(pcs[-1]["accepted_transfer_syntax"])

    def test_reject_abort(self):
        r = self.c["reject"].ts
        self.assertEqual(r.reject(), {"result": 1, "source": 1, "reason": 7,
                                      "reason_name": "called-AE-title-not-recognized"})
        self.assertEqual(r.implementation()["reply"], {"class_uid": None, "version": None})
        self.assertEqual(r.contexts()[0]["result"], None)
        self.assertEqual(r.outcome(), "rejected")
        a = self.c["abort"].ts
        self.assertEqual((a.abort_info()["source"], a.abort_info()["reason"], a.abort_dir), (0, 0, "orig"))
        self.assertEqual(a.outcome(), "aborted")

    def test_raw_decode_agrees_with_dissector(self):
        for name, c in self.c.items():
            for f in ("contexts", "implementation", "max_pdu", "reject", "abort_info"):
                self.assertEqual(getattr(c.ts, f)(), getattr(c.raw, f)(), (name, f))
            self.assertEqual(+c.ts.commands, +c.raw.commands, name)
            self.assertEqual(+c.ts.statuses, +c.raw.statuses, name)
            for d in ("orig", "reply"):
                self.assertEqual(+c.ts.pdus[d], +c.raw.pdus[d], (name, d))

    def test_truth_mode_passes(self):
        rc, out = self.truth()
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.rstrip().endswith("assoc: 8 passed, 0 failed"), out)
        self.assertIn("reject {'result': 1, 'source': 1, 'reason': 7", out)


class Events(Base):
    def test_good_events_pass(self):
        rc, out = self.check(GOOD)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.rstrip().endswith("assoc: 9 passed, 0 failed"), out)

    def test_bad_events_fail_with_every_error_named(self):
        rc, out = self.check(BAD)
        self.assertEqual(rc, 1, out)
        w = self.where
        expected = [
            w("echo") + ": dicomon implementation.reply:",
            w("echo") + ": dicomon fingerprint.name: got 'pynetdicom', expected 'DCMTK'",
            w("store") + ": dicomon presentation_contexts[id 3].transfer_syntaxes:",
            w("store") + ": dicomon commands: got {C-STORE-RQ=2,C-STORE-RSP=3}",
            w("find") + ": dicomon statuses: got {pending=4,success=1}",
            w("find") + ": dicomon max_pdu.reply: got 0, expected 16384",
            w("move") + ": dicomon outcome: got 'accepted', expected 'released'",
            w("move") + ": dicomon move_destinations: got [], expected ['MOVEDEST']",
            w("move-sub") + ": dicomon presentation_contexts: got 100 contexts, expected 120",
            w("move-sub") + ": dicomon presentation_contexts: context id(s) [201, 203",
            w("move-sub") + ": dicomon move_originators: got ['MOVEDEST'], expected ['MODALITY1']",
            w("manypc") + ": dicomon presentation_contexts: not in RQ order",
            w("manypc") + ": dicomon presentation_contexts[id 21].abstract_syntax:",
            w("manypc") + ": dicomon presentation_contexts[id 239].result: got 'acceptance'",
            w("manypc") + ": dicomon presentation_contexts[id 239].accepted_transfer_syntax:",
            w("reject") + ": dicomon reject.reason: got 3, expected 7",
            w("reject") + ": dicomon reject.reason_name:",
            w("reject") + ": dicomon implementation.reply:",
            w("abort") + ": dicomon expected exactly 1 flow_end",
            w("abort") + ": dicomon outcome: got 'released', expected 'aborted'",
            w("abort") + ": dicomon abort: got None",
            "is not JSON",
            "last event is not the final",
            "flow_end for a connection the test did not make",
        ]
        for s in expected:
            self.assertIn(s, out)
        self.assertTrue(out.rstrip().endswith("assoc: 0 passed, 9 failed"), out)


class SingleMutations(Base):
    """Each single deviation from the good stream fails, naming the
    association and the field; nothing else fails."""

    CASES = [
        # (association, field path, new value, expected message fragment)
        ("echo", ("calling_ae",), "ECHOSCU", "calling_ae: got 'ECHOSCU'"),
        ("echo", ("called_ae",), "PACS_QR ", "called_ae: got 'PACS_QR '"),
        ("echo", ("dst",), "10.217.0.2", "dst: got '10.217.0.2'"),
        ("echo", ("dport",), "11112", "dport: got '11112'"),
        ("echo", ("outcome",), "incomplete", "outcome: got 'incomplete'"),
        ("echo", ("outcome",), None, "outcome: got None"),
        ("echo", ("implementation", "orig", "class_uid"), "1.2.276.0.7230010.3.0.3.6.6",
         "implementation.orig:"),
        ("echo", ("implementation", "orig"), None, "implementation.orig: got None"),
        ("echo", ("implementation",), None, "implementation: got None"),
        ("echo", ("max_pdu", "orig"), 16382, "max_pdu.orig: got 16382"),
        ("echo", ("max_pdu",), None, "max_pdu: got None"),
        ("echo", ("fingerprint",), None, "fingerprint.name: got None"),
        ("echo", ("fingerprint", "name"), "dcmtk", "fingerprint.name: got 'dcmtk'"),
        ("echo", ("presentation_contexts",), [], "presentation_contexts: got 0 contexts, expected 1"),
        ("echo", ("presentation_contexts",), None, "presentation_contexts: got None"),
        ("echo", ("presentation_contexts", 0, "id"), 3, "presentation_contexts: unexpected context id(s) [3]"),
        ("echo", ("presentation_contexts", 0, "result"), "user-rejection",
         "presentation_contexts[id 1].result: got 'user-rejection'"),
        ("echo", ("presentation_contexts", 0, "transfer_syntaxes"), ["1.2.840.10008.1.2", "1.2.840.10008.1.2"],
         "presentation_contexts[id 1].transfer_syntaxes:"),
        ("echo", ("commands", "C-ECHO-RSP"), 2, "commands: got {C-ECHO-RQ=1,C-ECHO-RSP=2}"),
        ("echo", ("commands", "C-ECHO-RSP"), "1", "commands: got"),
        ("echo", ("commands",), None, "commands: got None"),
        ("echo", ("statuses", "warning"), 1, "statuses: got {success=1,warning=1}"),
        ("echo", ("reject",), {"result": 1, "source": 1, "reason": 7}, "reject: got"),
        ("echo", ("abort",), {"source": 0, "reason": 0}, "abort: got"),
        ("echo", ("pdus", "orig", "A-ABORT"), 1, "pdus.orig:"),
        ("store", ("presentation_contexts", 0, "accepted_transfer_syntax"), "1.2.840.10008.1.2",
         "presentation_contexts[id 1].accepted_transfer_syntax: got '1.2.840.10008.1.2'"),
        ("find", ("statuses", "pending"), 6, "statuses: got {pending=6,success=1}"),
        ("move", ("move_destinations",), ["MOVEDEST", "MOVEDEST"], "move_destinations:"),
        ("move", ("move_destinations",), "MOVEDEST", "move_destinations: got 'MOVEDEST'"),
        ("move-sub", ("move_originators",), [], "move_originators: got []"),
        ("move-sub", ("presentation_contexts", 119, "transfer_syntaxes"), [],
         "presentation_contexts[id 239].transfer_syntaxes: got []"),
        ("manypc", ("presentation_contexts", 1, "result"), "transfer-syntaxes-not-supported",
         "presentation_contexts[id 3].result:"),
        ("reject", ("reject",), None, "reject: got None"),
        ("reject", ("reject", "source"), 2, "reject.source: got 2, expected 1"),
        ("reject", ("reject", "result"), 2, "reject.result: got 2, expected 1"),
        ("reject", ("outcome",), "aborted", "outcome: got 'aborted', expected 'rejected'"),
        ("abort", ("abort", "source"), 2, "abort.source: got 2, expected 0"),
        ("abort", ("abort", "reason_name"), None, "abort.reason_name: got None, expected a string"),
        ("echo", ("decode_incomplete",), ["gap"], "decode_incomplete: got ['gap'], expected null"),
        ("store", ("violations",), [{"code": "stream_resync", "text": "x", "dir": "orig", "offset": 9}],
         "violations: got stream_resync, expected no stream_* anomaly"),
    ]

    def test_mutations(self):
        for name, path, value, frag in self.CASES:
            with self.subTest(assoc=name, field=".".join(map(str, path)), value=value):
                ev = load_events()
                tgt = self.flow_end(ev, name)
                for k in path[:-1]:
                    tgt = tgt[k]
                tgt[path[-1]] = value
                rc, out = self.check(self.write_events(ev))
                self.assertEqual(rc, 1, out)
                self.assertIn("FAIL %s: dicomon %s" % (self.where(name), frag), out)
                self.assertIn("assoc: 8 passed, 1 failed", out)

    def test_removed_fields(self):
        for field in ("outcome", "implementation", "max_pdu", "presentation_contexts", "commands",
                      "statuses", "move_destinations", "move_originators", "reject", "abort", "fingerprint"):
            with self.subTest(field=field):
                ev = load_events()
                del self.flow_end(ev, "move")[field]
                rc, out = self.check(self.write_events(ev))
                self.assertEqual(rc, 1, out)
                self.assertIn("FAIL %s: dicomon %s" % (self.where("move"), field), out)
                self.assertIn("<absent>", out)

    def test_tolerated_variants(self):
        """Extra fields anywhere, zero counts, null for empty lists, a null
        reply implementation on a rejected association, a bare fingerprint."""
        ev = load_events()
        e = self.flow_end(ev, "echo")
        e["commands"]["C-FIND-RQ"] = 0
        e["statuses"]["failure"] = 0
        e["move_destinations"] = None
        e["move_originators"] = None
        e["presentation_contexts"][0]["role"] = {"scu": None, "scp": None}
        e["implementation"]["orig"]["extra"] = 1
        e["fingerprint"] = "DCMTK"
        r = self.flow_end(ev, "reject")
        r["implementation"]["reply"] = None
        r["max_pdu"] = {"orig": 16384, "reply": None, "extra": 0}
        r["commands"] = None
        r["statuses"] = None
        a = self.flow_end(ev, "abort")
        a["abort"]["reason_name"] = "whatever-the-daemon-calls-source-0"
        self.flow_end(ev, "manypc")["new_field"] = [1, 2, 3]
        rc, out = self.check(self.write_events(ev))
        self.assertEqual(rc, 0, out)

    def test_many_mismatches_are_capped(self):
        ev = load_events()
        for pc in self.flow_end(ev, "manypc")["presentation_contexts"]:
            pc["result"] = "no-reason"
        rc, out = self.check(self.write_events(ev))
        self.assertEqual(rc, 1)
        lines = [ln for ln in out.splitlines() if ln.startswith("FAIL " + self.where("manypc"))]
        self.assertEqual(len(lines), ca.MAX_LINES_PER_FIELD + 1, out)
        self.assertIn("... and %d more" % (120 - ca.MAX_LINES_PER_FIELD), lines[-1])

    def test_stream_problems(self):
        ev = load_events()
        rc, out = self.check(self.write_events(ev[1:]))
        self.assertEqual(rc, 1)
        self.assertIn("first event is not", out)
        rc, out = self.check(self.write_events(ev), rc="1")
        self.assertEqual(rc, 1)
        self.assertIn("dicomon exit status 1", out)
        # the move-sub association matched by (src, sport): the same port
        # from another address is a different connection
        stray = dict(self.flow_end(ev, "move-sub"), src="10.217.0.9")
        rc, out = self.check(self.write_events(ev[:-1] + [stray, ev[-1]]))
        self.assertEqual(rc, 1)
        self.assertIn("flow_end for a connection the test did not make: 10.217.0.9", out)
        rc, out = self.check(self.write_events([e for e in ev if e.get("sport") != self.clients["find"][1]]))
        self.assertEqual(rc, 1)
        self.assertIn("FAIL %s: dicomon expected exactly 1 flow_end" % self.where("find"), out)


class TruthSanity(Base):
    """The ground truth is itself checked against what the tools were told."""

    def manifest_with(self, name, **changes):
        rows = ca.read_tsv(MANIFEST)
        hdr = read(MANIFEST).split("\n", 1)[0].split("\t")
        for r in rows:
            if r["name"] == name:
                for k, v in changes.items():
                    if k == "expect":
                        x = json.loads(r["expect"])
                        x.update(v)
                        r["expect"] = json.dumps(x)
                    else:
                        r[k] = v
        text = "\t".join(hdr) + "\n" + "".join("\t".join(r[h] for h in hdr) + "\n" for r in rows)
        return self.write("m.tsv", text)

    def expect_fail(self, manifest, frag, tshark=TSHARK, payload=PAYLOAD, summary="assoc: 7 passed, 1 failed"):
        rc, out = self.truth(manifest, tshark, payload)
        self.assertEqual(rc, 1, out)
        self.assertIn(frag, out)
        self.assertIn(summary, out)
        return out

    def test_expectations(self):
        w = self.where
        cases = [
            ("reject", {"called_ae": "OTHER_AE"}, w("reject") + ": tshark: RQ calling/called"),
            ("echo", {"tool_ok": "0", "note": "rc=1"}, w("echo") + ": DCMTK tool: rc=1"),
            ("echo", {"expect": {"outcome": "aborted"}}, w("echo") + ": tshark: outcome released, expected aborted"),
            ("find", {"expect": {"statuses": {"pending": 4, "success": 1}}}, w("find") + ": tshark: statuses"),
            ("store", {"expect": {"commands": {"C-STORE-RQ": 2, "C-STORE-RSP": 2}}}, w("store") + ": tshark: commands"),
            ("move", {"expect": {"move_destinations": ["ELSEWHERE"]}}, w("move") + ": tshark: move_destinations"),
            ("move", {"expect": {"final_status": "failure"}}, w("move") + ": tshark: last response status success"),
            ("move-sub", {"expect": {"move_originators": []}}, w("move-sub") + ": tshark: move_originators"),
            ("manypc", {"expect": {"min_contexts": 121}}, w("manypc") + ": tshark: 120 presentation contexts"),
            ("manypc", {"expect": {"min_rq_segments": 50}}, w("manypc") + ": A-ASSOCIATE-RQ spans"),
            ("echo", {"expect": {"abstract_syntaxes": [SC]}}, w("echo") + ": tshark: proposed abstract syntaxes"),
            ("move-sub", {"expect": {"abstract_syntaxes_include": ["1.2.3.4"]}},
             w("move-sub") + ": tshark: abstract syntaxes ['1.2.3.4'] not proposed"),
            ("reject", {"expect": {"reject": [1, 1, 3]}}, w("reject") + ": tshark: A-ASSOCIATE-RJ"),
            ("abort", {"expect": {"abort_source": 2}}, w("abort") + ": tshark: A-ABORT"),
        ]
        for name, ch, frag in cases:
            with self.subTest(assoc=name, change=ch):
                self.expect_fail(self.manifest_with(name, **ch), frag)
        # wrong initiator: no such connection, and the real one is unexplained
        out = self.expect_fail(self.manifest_with("move-sub", initiator="10.217.0.2"),
                               "FAIL move-sub: no TCP connection 10.217.0.2 -> port 11113",
                               summary="assoc: 7 passed, 2 failed")
        self.assertIn("FAIL (capture): capture has 1 connection(s) the manifest does not describe: "
                      "10.217.0.6:%d -> 10.217.0.2:11113" % self.clients["move-sub"][1], out)

    def test_profile_mismatch(self):
        ab, ts = ca.read_profile(PROFILE)[5]
        prof = read(PROFILE).replace("PresentationContext6 = %s\\JPEGLossless" % ab,
                                            "PresentationContext6 = %s\\JPEGBaseline" % ab)
        p = self.write("p.cfg", prof)
        rc, out = run_checker("truth", "--manifest", MANIFEST, "--tshark", TSHARK, "--profile", p)
        self.assertEqual(rc, 1)
        self.assertIn("%s: tshark: RQ contexts differ from the storescu profile" % self.where("manypc"), out)

    def test_extra_connection(self):
        lines = read(MANIFEST).splitlines()
        m = self.write("m.tsv", "\n".join(l for l in lines if not l.startswith("abort\t")) + "\n")
        rc, out = self.truth(m)
        self.assertEqual(rc, 1)
        self.assertIn("connection(s) the manifest does not describe: 10.217.0.2:%d" % self.clients["abort"][1], out)

    def test_dissector_vs_raw_decode(self):
        """Corrupt tshark's view (one context's accepted TS, one status):
        the independent decode of the raw bytes must catch it."""
        recs = ca.read_jsonl(TSHARK)
        sport = self.clients["find"][1]
        done = set()
        for r in recs:
            for p in r.get("pdus", []):
                if p["type"] == 2 and r["dport"] == sport and "ac" not in done:
                    p["pcs"][0]["ts"] = ["1.2.840.10008.1.2"]
                    done.add("ac")
                for pdv in p.get("pdvs", []):
                    tags = pdv.get("tags", {})
                    if r["dport"] == sport and tags.get("00000900") == 0xFF00 and "st" not in done:
                        tags["00000900"] = 0xFF01  # still pending: no class change
                        tags["00000100"] = 0x8021  # but a C-MOVE-RSP now
                        done.add("st")
        self.assertEqual(done, {"ac", "st"})
        t = self.write("t.jsonl", "".join(json.dumps(r) + "\n" for r in recs))
        out = self.expect_fail(MANIFEST, "tshark dissector and raw decode disagree on presentation contexts",
                               tshark=t)
        self.assertIn("tshark dissector and raw decode disagree on commands", out)

    def test_truth_without_payload(self):
        rc, out = self.truth(payload=None)
        self.assertEqual(rc, 0, out)


def pdu(t, body):
    return bytes([t, 0]) + len(body).to_bytes(4, "big") + body


def item(t, body):
    return bytes([t, 0]) + len(body).to_bytes(2, "big") + body


def assoc_rq(pcs, called=b"PACS_QR", calling=b"MODALITY1", uid=b"1.2.3.4", ver=b"V1"):
    body = b"\x00\x01\x00\x00" + called.ljust(16) + calling.ljust(16) + bytes(32)
    body += item(0x10, b"1.2.840.10008.3.1.1.1")
    for pid, ab, tss in pcs:
        body += item(0x20, bytes([pid, 0, 0xFF, 0]) + item(0x30, ab) + b"".join(item(0x40, t) for t in tss))
    body += item(0x50, item(0x51, (16384).to_bytes(4, "big")) + item(0x52, uid) + item(0x55, ver))
    return pdu(1, body)


def command(elements):
    out = b""
    for (g, e), v in elements:
        if isinstance(v, int):
            v = v.to_bytes(2, "little")
        if len(v) % 2:
            v += b" "
        out += g.to_bytes(2, "little") + e.to_bytes(2, "little") + len(v).to_bytes(4, "little") + v
    return out


def pdata(ctx, frags):
    """frags: [(mch, bytes)] -> one P-DATA-TF"""
    return pdu(4, b"".join((len(f) + 2).to_bytes(4, "big") + bytes([ctx, m]) + f for m, f in frags))


class RawDecode(unittest.TestCase):
    def test_rq_split_over_segments_and_fragmented_command(self):
        rq = assoc_rq([(1, b"1.2.840.10008.1.1", [b"1.2.840.10008.1.2"]),
                       (3, SC.encode(), [b"1.2.840.10008.1.2.1", b"1.2.840.10008.1.2"])])
        cmd = command([((0, 0x0002), SC.encode() + b"\0"), ((0, 0x0100), 0x0001), ((0, 0x0110), 7),
                       ((0, 0x1030), b"MODALITY1")])
        stream = rq + pdata(3, [(0x01, cmd[:10])]) + pdata(3, [(0x03, cmd[10:]), (0x02, b"\0" * 8)])
        stream += pdu(5, bytes(4))
        conns = {0: ca.Conn(0)}
        conns[0].client, conns[0].server = ("10.0.0.1", 5000), ("10.0.0.2", 104)
        rows = []
        for n, off in enumerate(range(0, len(stream), 50)):  # 50-byte segments
            rows.append({"tcp.stream": "0", "tcp.srcport": "5000", "tcp.dstport": "104",
                         "tcp.seq": str(1 + off), "tcp.len": "50", "tcp.payload": stream[off:off + 50].hex()})
        rows.append(dict(rows[2]))  # a retransmission is harmless
        ca.walk_payload(rows, conns)
        a = conns[0].raw
        self.assertEqual(a.rq["called"], "PACS_QR")
        self.assertEqual(a.rq_segments, -(-len(rq) // 50))
        self.assertEqual([(pc["id"], pc["abstract_syntax"], pc["transfer_syntaxes"], pc["result"])
                          for pc in a.contexts()],
                         [(1, VERIF, ["1.2.840.10008.1.2"], None),
                          (3, SC, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"], None)])
        self.assertEqual(a.implementation()["orig"], {"class_uid": "1.2.3.4", "version": "V1"})
        self.assertEqual(dict(a.commands), {"C-STORE-RQ": 1})
        self.assertEqual(a.move_originators, ["MODALITY1"])  # space padding stripped
        self.assertEqual(dict(a.pdus["orig"]), {"A-ASSOCIATE-RQ": 1, "P-DATA-TF": 2, "A-RELEASE-RQ": 1})
        self.assertEqual(a.outcome(), "incomplete")

    def test_reject_and_abort_bytes(self):
        for stream, want in ((pdu(3, bytes([0, 2, 3, 2])), {"rj": (2, 3, 2)}),
                             (pdu(7, bytes([0, 0, 2, 6])), {"ab": (2, 6)})):
            a = ca.Assoc()
            ca.decode_stream(bytearray(stream), "reply", a)
            if "rj" in want:
                self.assertEqual(a.reject(), {"result": 2, "source": 3, "reason": 2,
                                              "reason_name": "local-limit-exceeded"})
                self.assertEqual(a.outcome(), "rejected")
            else:
                self.assertEqual(a.abort_info(), {"source": 2, "reason": 6,
                                                  "reason_name": "invalid-PDU-parameter-value"})

    def test_truncated_stream_is_flagged(self):
        a = ca.Assoc()
        ca.decode_stream(bytearray(pdu(5, bytes(4)) + b"\x04\x00\x00"), "orig", a)
        self.assertIn("(trailing 3 bytes)", a.pdus["orig"])

    def test_status_classes(self):
        for v, cls in ((0x0000, "success"), (0xFF00, "pending"), (0xFF01, "pending"), (0xFE00, "cancel"),
                       (0x0001, "warning"), (0xB000, "warning"), (0x0107, "warning"), (0x0116, "warning"),
                       (0xA801, "failure"), (0xC000, "failure"), (0x0122, "failure"), (0x0124, "failure")):
            self.assertEqual(ca.status_class(v), cls, hex(v))


class Profile(Base):
    def test_profile_roundtrip_and_recorded_file(self):
        p = os.path.join(self.tmp, "p.cfg")
        self.assertEqual(ca.main(["profile", "--out", p]), 0)
        self.assertEqual(read(p), read(PROFILE))
        got = ca.read_profile(p)
        self.assertEqual(len(got), ca.PROFILE_SIZE)
        self.assertGreaterEqual(ca.PROFILE_SIZE, 100)
        self.assertLessEqual(ca.PROFILE_SIZE, 128)  # DCMTK / odd-id limit
        self.assertEqual(got, [(ab, ca.TS_GROUPS[g]) for ab, g in ca.profile_contexts()])
        self.assertEqual(len({ab for ab, _ in got}), len(ca.PROFILE_IMAGE) + len(ca.PROFILE_OTHER) + 1)


@unittest.skipUnless(shutil.which("tshark"), "tshark not installed")
class Extract(Base):
    def test_extract_sample_pcap_reproduces_the_recorded_extract(self):
        out = os.path.join(self.tmp, "t.jsonl")
        pl = os.path.join(self.tmp, "p.tsv")
        subprocess.run([sys.executable, os.path.join(HERE, "check_assoc.py"), "extract",
                        "--pcap", os.path.join(TD, "sample.pcapng"), "--out", out, "--payload-out", pl,
                        "--ports", "11112,11113"], check=True, stderr=subprocess.DEVNULL)
        self.assertEqual(ca.read_jsonl(out), ca.read_jsonl(TSHARK))
        self.assertEqual(ca.read_tsv(pl), ca.read_tsv(PAYLOAD))


if __name__ == "__main__":
    unittest.main(verbosity=1)
