#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""No root: check_adversarial.py's own logic on a recorded replay output.

A correct record set passes; each single deviation (a field, a violation, a
record too many or too few, an alert, the planted value in the output, a
failed replay) fails; the mutation check fails when a case still passes with
candidates off. With tshark: the committed captures against expected.json
(check_adversarial.py --oracle). With GEN_ADVERSARIAL=path: the generator
writes the committed captures byte for byte.
"""

import copy
import filecmp
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_adversarial as ca  # noqa: E402

CAPDIR = os.path.join(HERE, "captures")
F = ca.RECORD_FIELDS


def manifest():
    return ca.load_manifest(CAPDIR)


def case_named(name):
    for cap in manifest()["captures"]:
        for c in cap["cases"]:
            if c["name"] == name:
                return cap, c
    raise KeyError(name)


def sample():
    with open(os.path.join(HERE, "testdata", "sample_run.json")) as f:
        return json.load(f)


def as_run(part, rc=0, stderr=""):
    return ca.Run("\n".join(json.dumps(e) for e in part["stdout"]), stderr,
                  "\n".join(json.dumps(e) for e in part["eve"]), rc)


def good_assoc():
    """The recorded overlap_diff_104 output as the fixed build must write it."""
    part = sample()["assoc"]
    fe = part["stdout"][0]
    fe[F["decode_incomplete"]] = None
    fe[F["candidate"]] = True
    v = {"code": "stream_overlap_conflict", "text": "a retransmission with other bytes",
         "dir": "orig", "offset": 0}
    fe[F["violations"]] = [v]
    for r in part["eve"]:
        if r["event_type"] == "dicom":
            r["dicom"]["violations"] = [v]
    part["eve"].append(dict(part["eve"][0], alert=dict(part["eve"][0]["alert"],
                                                       signature_id=9100120)))
    return part


def good_http():
    part = sample()["http"]
    _, case = case_named("dicomweb_split20")
    case = copy.deepcopy(case)
    e = part["stdout"][0]
    case.update(client=e["src"], sport=e["sport"], server=e["dst"], dport=e["dport"])
    return part, case


class AssocCase(unittest.TestCase):
    def setUp(self):
        self.cap, self.case = case_named("overlap_diff_104")
        self.part = good_assoc()

    def probs(self, part=None, **kw):
        return ca.check_case(self.case, as_run(part or self.part, **kw))

    def fe(self):
        return self.part["stdout"][0]

    def test_good_passes(self):
        self.assertEqual(self.probs(), [])
        self.assertEqual(ca.extra_problems(self.cap, as_run(self.part)), [])

    def test_field_deviations_fail(self):
        edits = {
            "calling": lambda r: r.update(calling_ae="ATTACKER1"),
            "called": lambda r: r.update(called_ae=None),
            "contexts": lambda r: r.update(presentation_contexts=[]),
            "outcome": lambda r: r.update(outcome="accepted"),
            "state": lambda r: r.update(state="accepted"),
            "reason": lambda r: r.update(reason="capture_end"),
            "pdus": lambda r: r["pdus"]["orig"].update({"P-DATA-TF": 2}),
            "pdus_missing": lambda r: r.pop("pdus"),
            "commands": lambda r: r.update(commands={"C-ECHO-RSP": 1}),
            "statuses": lambda r: r.update(statuses={}),
            "violation_gone": lambda r: r.update(violations=[]),
            "violations_missing": lambda r: r.pop("violations"),
            "decode_incomplete": lambda r: r.update({F["decode_incomplete"]: ["gap"]}),
            "decode_incomplete_missing": lambda r: r.pop(F["decode_incomplete"]),
            "candidate": lambda r: r.update({F["candidate"]: False}),
            "candidate_missing": lambda r: r.pop(F["candidate"]),
        }
        for what, edit in edits.items():
            part = copy.deepcopy(self.part)
            edit(part["stdout"][0])
            self.assertNotEqual(self.probs(part), [], what)

    def test_violation_rules(self):
        exp = {"violations_none": True}
        self.assertEqual(ca.check_record(exp, {F["violations"]: []}), [])
        self.assertNotEqual(ca.check_record(exp, {F["violations"]: [{"code": "pdata"}]}), [])
        exp = {"violations_absent": ["stream_overlap_conflict"]}
        self.assertNotEqual(ca.check_record(exp, {F["violations"]: [{"code": "stream_overlap_conflict"}]}), [])
        exp = {"violations_one_of": ["a", "b"]}
        self.assertEqual(ca.check_record(exp, {F["violations"]: [{"code": "b"}]}), [])
        self.assertNotEqual(ca.check_record(exp, {F["violations"]: [{"code": "c"}]}), [])
        exp = {"decode_incomplete_has": ["gap"]}
        self.assertEqual(ca.check_record(exp, {F["violations"]: [], F["decode_incomplete"]: ["midstream", "gap"]}), [])
        self.assertNotEqual(ca.check_record(exp, {F["violations"]: [], F["decode_incomplete"]: None}), [])

    def test_record_count(self):
        part = copy.deepcopy(self.part)
        part["stdout"].append(copy.deepcopy(part["stdout"][0]))
        self.assertTrue(any("2 flow_end" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        part["stdout"] = []
        self.assertTrue(any("0 flow_end" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        part["eve"] = [r for r in part["eve"] if r["event_type"] != "dicom"]
        self.assertTrue(any("0 EVE dicom" in p for p in self.probs(part)))

    def test_reversed_orientation_matches(self):
        part = copy.deepcopy(self.part)
        fe = part["stdout"][0]
        fe["src"], fe["sport"], fe["dst"], fe["dport"] = fe["dst"], fe["dport"], fe["src"], fe["sport"]
        self.assertEqual(self.probs(part), [])

    def test_extra_record_of_another_flow(self):
        part = copy.deepcopy(self.part)
        other = copy.deepcopy(part["stdout"][0])
        other["sport"] = 1
        part["stdout"].append(other)
        self.assertEqual(self.probs(part), [])
        self.assertNotEqual(ca.extra_problems(self.cap, as_run(part)), [])

    def test_eve_must_agree(self):
        part = copy.deepcopy(self.part)
        for r in part["eve"]:
            if r["event_type"] == "dicom":
                r["dicom"]["calling_ae"] = "OTHER"
        self.assertTrue(any("EVE calling_ae" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        for r in part["eve"]:
            if r["event_type"] == "dicom":
                r["dicom"]["violations"] = []
        self.assertTrue(any("EVE violations" in p for p in self.probs(part)))

    def test_alerts(self):
        part = copy.deepcopy(self.part)
        part["eve"] = [r for r in part["eve"] if (r.get("alert") or {}).get("signature_id") != 9100120]
        self.assertTrue(any("alert 9100120" in p for p in self.probs(part)))
        _, clean = case_named("overlap_same_104")
        self.assertTrue(any("9100120" in p and "raised" in p
                            for p in ca.check_alerts(clean["expect"], self.part["eve"])[0]))

    def test_replay_failure_and_garbage(self):
        self.assertNotEqual(self.probs(rc=6), [])
        run = as_run(self.part)
        run.bad_lines = 1
        self.assertNotEqual(ca.check_case(self.case, run), [])


class HttpCase(unittest.TestCase):
    def setUp(self):
        self.part, self.case = good_http()

    def probs(self, part=None, **kw):
        return ca.check_case(self.case, as_run(part or self.part, **kw))

    def test_good_passes(self):
        self.assertEqual(self.probs(), [])

    def test_deviations_fail(self):
        part = copy.deepcopy(self.part)
        part["stdout"] = []
        self.assertTrue(any("0 dicomweb" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        part["stdout"].append(copy.deepcopy(part["stdout"][0]))
        self.assertTrue(any("2 dicomweb" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        part["stdout"][0]["phi_keys"] = []
        self.assertNotEqual(self.probs(part), [])
        part = copy.deepcopy(self.part)
        part["eve"].append(copy.deepcopy(part["eve"][0]))
        self.assertTrue(any("times for one request" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        part["eve"] = part["eve"][:1]
        self.assertTrue(any("missing" in p for p in self.probs(part)))
        part = copy.deepcopy(self.part)
        fe = dict(part["stdout"][0], event="flow_end")
        part["stdout"].append(fe)
        self.assertTrue(any("HTTP connection" in p for p in self.probs(part)))

    def test_canary(self):
        for leak in ("LEAK^CANARY", "LEAK%5ECANARY", "CANARY"):
            self.assertTrue(any("planted" in p for p in self.probs(stderr="uri=" + leak)), leak)
            part = copy.deepcopy(self.part)
            part["stdout"][0]["uri"] = "/dicom-web/studies?PatientName=" + leak
            self.assertTrue(any("planted" in p for p in self.probs(part)), leak)


class Mutation(unittest.TestCase):
    """run_checks' mutation pass: a mutation case must fail with candidates off."""

    def run_checks(self, on, off):
        cap, case = case_named("overlap_diff_104")
        man = {"captures": [dict(cap, cases=[case])]}
        calls = []

        def fake(dicomon, pcap, extra, keep=None):
            calls.append(list(extra))
            return as_run(off if ca.CANDIDATES_OFF[1] in extra else on)

        args = type("A", (), dict(only=None, capdir=CAPDIR, dicomon="x", keep=None,
                                  no_mutation=False, mutation_only=False, verbose=False))()
        out = io.StringIO()
        rep = ca.Report(out=out)
        saved, ca.run_replay = ca.run_replay, fake
        try:
            ca.run_checks(args, man, rep)
        finally:
            ca.run_replay = saved
        self.assertIn(ca.CANDIDATES_OFF, [c[-2:] for c in calls])
        return rep, out.getvalue()

    def test_still_passing_without_candidates_fails(self):
        rep, out = self.run_checks(good_assoc(), good_assoc())
        self.assertIn("FAIL mutation:overlap_diff_104", out)
        self.assertEqual(rep.failed, 1)

    def test_failing_without_candidates_passes(self):
        off = good_assoc()
        off["stdout"][0]["presentation_contexts"] = []
        rep, out = self.run_checks(good_assoc(), off)
        self.assertIn("PASS mutation:overlap_diff_104", out)
        self.assertEqual(rep.failed, 0)


class Captures(unittest.TestCase):
    def test_manifest_shape(self):
        man = manifest()
        names = [c["name"] for cap in man["captures"] for c in cap["cases"]]
        self.assertEqual(len(names), len(set(names)))
        muts = [n for n in names if case_named(n)[1]["mutation"]]
        # 41 short first segments a port, 1-byte, overlaps, the 1-byte DICOMweb request
        self.assertGreaterEqual(len(muts), 82 + 2 + 12 + 1)
        total = sum(os.path.getsize(os.path.join(CAPDIR, f)) for f in os.listdir(CAPDIR))
        self.assertLess(total, 1 << 20)
        for cap in man["captures"]:
            ends = [(c["client"], c["sport"], c["dport"]) for c in cap["cases"]]
            self.assertEqual(len(ends), len(set(ends)), cap["file"])

    @unittest.skipUnless(shutil.which("tshark"), "tshark not installed")
    def test_oracle(self):
        out = io.StringIO()
        saved, sys.stdout = sys.stdout, out
        try:
            rc = ca.main(["--oracle", CAPDIR])
        finally:
            sys.stdout = saved
        self.assertEqual(rc, 0, "".join(l for l in out.getvalue().splitlines(True)
                                        if l.startswith("FAIL")))

    @unittest.skipUnless(os.environ.get("GEN_ADVERSARIAL"), "GEN_ADVERSARIAL not set")
    def test_generator_reproduces_captures(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([os.environ["GEN_ADVERSARIAL"], tmp], check=True)
            mine, theirs = sorted(os.listdir(tmp)), sorted(os.listdir(CAPDIR))
            self.assertEqual(mine, theirs)
            _, mismatch, errors = filecmp.cmpfiles(tmp, CAPDIR, mine, shallow=False)
            self.assertEqual(mismatch + errors, [], "run `make adversarial`")


if __name__ == "__main__":
    unittest.main(verbosity=1)
