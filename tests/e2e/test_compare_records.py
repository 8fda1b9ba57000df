#!/usr/bin/env python3
"""Unit tests of compare_records.py: it must find each kind of difference."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_records  # noqa: E402

BASE = {"event": "flow_end", "src": "10.0.0.2", "sport": 40000, "dst": "10.0.0.6", "dport": 104,
        "calling_ae": "MOD", "called_ae": "PACS", "outcome": "released",
        "pdus": {"orig": {"A-ASSOCIATE-RQ": 1}, "reply": {"A-ASSOCIATE-AC": 1}},
        "timestamp": "2026-11-22T00:00:00.000000+00:00", "assoc_id": "1", "iface": "gw-mod"}


def write(recs):
    f = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    for r in recs:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
    f.close()
    return f.name


class CompareRecords(unittest.TestCase):
    def run_main(self, live, rep):
        a, b = write(live), write(rep)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # its FAIL lines are expected here
                return compare_records.main(["x", a, b])
        finally:
            os.unlink(a)
            os.unlink(b)

    def test_same_records_pass_whatever_time_place_and_id(self):
        rep = dict(BASE, timestamp="1999-01-01T00:00:00.000000+00:00", assoc_id="99", iface="pcap",
                   hook="xdp", pcap_filename="x.pcap", pcap_cnt=7, duration=1.5)
        self.assertEqual(self.run_main([BASE], [rep]), 0)

    def test_a_field_differs(self):
        for f, v in (("called_ae", "OTHER"), ("outcome", "aborted"),
                     ("pdus", {"orig": {"A-ASSOCIATE-RQ": 2}, "reply": {"A-ASSOCIATE-AC": 1}})):
            self.assertEqual(self.run_main([BASE], [dict(BASE, **{f: v})]), 1, f)

    def test_a_field_missing_or_extra(self):
        rep = dict(BASE)
        del rep["outcome"]
        self.assertEqual(self.run_main([BASE], [rep]), 1)
        self.assertEqual(self.run_main([BASE], [dict(BASE, reject={"result": 1})]), 1)

    def test_association_on_one_side_only(self):
        other = dict(BASE, sport=40001)
        self.assertEqual(self.run_main([BASE, other], [BASE]), 1)
        self.assertEqual(self.run_main([BASE], [BASE, other]), 1)

    def test_nothing_live_fails(self):
        self.assertEqual(self.run_main([], []), 1)


if __name__ == "__main__":
    unittest.main()
