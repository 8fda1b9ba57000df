#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""dicomon replay against the adversarial captures (tests/adversarial/README.md).

Standard library only.

  check_adversarial.py [--dicomon PATH] [--only REGEX] [--no-mutation]
                       [--mutation-only] [--keep DIR] [-v] CAPTURE_DIR
      Root (BPF_PROG_TEST_RUN). Runs `dicomon replay --json --eve FILE` on each
      capture of CAPTURE_DIR/expected.json and checks every case: exactly the
      expected records (one flow_end and one EVE dicom record per association,
      none for HTTP, none extra), the fields that matter, the alerts expected
      and not expected, and that the planted value (LEAK^CANARY) appears
      nowhere in dicomon's output. Then the mutation check: the captures with
      cases marked "mutation" run again with -o detection.candidate_seconds=0,
      and each such case must FAIL there (candidate buffering is what makes it
      pass). Prints PASS/FAIL per case, last line
      "adversarial: N passed, M failed"; exit 1 on any failure.

  check_adversarial.py --oracle [--only REGEX] CAPTURE_DIR
      No root: tshark (Wireshark's DICOM dissector, TCP reassembly, out-of-order
      segments reassembled) decodes each capture as a receiving stack reads it,
      and each case's expectations are checked against that decode, where
      tshark can see the field (a case's "oracle_skip" lists those it cannot).

The names of the record's fields live in RECORD_FIELDS, nowhere else.
"""

import argparse
import collections
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Where each checked value lives in a flow_end line (dicomon replay --json).
# The one place to change when a field is renamed.
RECORD_FIELDS = {
    "calling_ae": "calling_ae",
    "called_ae": "called_ae",
    "contexts": "presentation_contexts",  # a list: its length is compared
    "outcome": "outcome",
    "state": "state",
    "reason": "reason",
    "pdus": "pdus",  # {"orig": {...}, "reply": {...}}
    "commands": "commands",
    "statuses": "statuses",
    "violations": "violations",  # [{"code", "text", "dir", "offset"}]
    "decode_incomplete": "decode_incomplete",  # null or a list of reasons
    "candidate": "candidate",  # the RQ came held as a candidate (DM_AF_CANDIDATE)
}
# The same in the EVE dicom record's "dicom" object.
EVE_FIELDS = {
    "calling_ae": "calling_ae",
    "called_ae": "called_ae",
    "outcome": "outcome",
    "violations": "violations",
}
CANDIDATES_OFF = ["-o", "detection.candidate_seconds=0"]
REPLAY_TIMEOUT = 300
SID_NAMES = {9100010: "cleartext", 9100110: "dicomweb_cleartext", 9100111: "dicomweb_phi",
             9100120: "protocol_violation", 9100121: "abort_storm"}

MISSING = object()


# ------------------------------------------------------------ dicomon's output

class Run:
    """One replay of one capture: its event lines, EVE lines and all text."""

    def __init__(self, stdout, stderr, eve_text, rc, args=()):
        self.rc = rc
        self.args = list(args)
        self.text = "\n".join((stdout or "", stderr or "", eve_text or ""))
        self.stderr = stderr or ""
        self.events, self.eve, self.bad_lines = [], [], 0
        for src, out in ((stdout, self.events), (eve_text, self.eve)):
            for ln in (src or "").splitlines():
                ln = ln.strip()
                if not ln:
                    continue
                try:
                    out.append(json.loads(ln))
                except ValueError:
                    self.bad_lines += 1

    def flow_ends(self):
        return [e for e in self.events if e.get("event") == "flow_end"]

    def dicomweb(self):
        return [e for e in self.events if e.get("event") == "dicomweb"]

    def eve_records(self):
        return [r for r in self.eve if r.get("event_type") == "dicom"]

    def eve_alerts(self):
        return [r for r in self.eve if r.get("event_type") == "alert"]


def ev_ends(e):
    return {(e.get("src"), e.get("sport")), (e.get("dst"), e.get("dport"))}


def eve_ends(r):
    return {(r.get("src_ip"), r.get("src_port")), (r.get("dest_ip"), r.get("dest_port"))}


def same_flow(ends, case):
    return ends == {(case["client"], case["sport"]), (case["server"], case["dport"])}


def run_replay(dicomon, pcap, extra, keep=None):
    with tempfile.TemporaryDirectory(prefix="dm-adv-") as tmp:
        eve = os.path.join(tmp, "eve.json")
        cmd = [dicomon, "replay", "--json", "--eve", eve] + list(extra) + [pcap]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=REPLAY_TIMEOUT,
                               errors="replace")
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, err, rc = "", "timed out after %d s" % REPLAY_TIMEOUT, -1
        eve_text = ""
        if os.path.exists(eve):
            with open(eve, errors="replace") as f:
                eve_text = f.read()
        if keep:
            os.makedirs(keep, exist_ok=True)
            base = os.path.join(keep, os.path.basename(pcap) + (".off" if extra else ""))
            for suffix, text in ((".out", out), (".err", err), (".eve", eve_text)):
                with open(base + suffix, "w") as f:
                    f.write(text)
    return Run(out, err, eve_text, rc, extra)


# ------------------------------------------------------------ the checks

def field(rec, key):
    """A record's value for an expectation key (RECORD_FIELDS), or MISSING."""
    name = RECORD_FIELDS[key]
    return rec[name] if name in rec else MISSING


def codes_of(viols):
    out = []
    for v in viols or []:
        out.append(v.get("code") if isinstance(v, dict) else v)
    return out


def fmt(v):
    return "missing" if v is MISSING else json.dumps(v, sort_keys=True)


def check_record(exp, rec):
    """Problems of one flow_end record against a case's expectations."""
    probs = []

    def want(key, expected, got):
        if got is MISSING:
            probs.append("%s missing from the record (want %s)" % (RECORD_FIELDS[key], fmt(expected)))
        elif got != expected:
            probs.append("%s %s, want %s" % (key, fmt(got), fmt(expected)))

    for key in ("calling_ae", "called_ae", "outcome", "state", "reason", "commands",
                "statuses"):
        if key in exp:
            want(key, exp[key], field(rec, key))
    if "contexts" in exp:
        pcs = field(rec, "contexts")
        want("contexts", exp["contexts"], pcs if pcs is MISSING else len(pcs or []))
    pdus = field(rec, "pdus")
    for d in ("orig", "reply"):
        k = "pdus_" + d
        if k in exp:
            got = MISSING if pdus is MISSING else (pdus or {}).get(d, {})
            if got is MISSING:
                probs.append("pdus missing from the record")
            elif got != exp[k]:
                probs.append("%s %s, want %s" % (k, fmt(got), fmt(exp[k])))
    viols = field(rec, "violations")
    if viols is MISSING:
        probs.append("violations missing from the record")
        viols = []
    codes = codes_of(viols)
    if exp.get("violations_none") and codes:
        probs.append("violations %s, want none" % fmt(codes))
    for c in exp.get("violations_present", []):
        if c not in codes:
            probs.append("violation %s absent (got %s)" % (c, fmt(codes)))
    for c in exp.get("violations_absent", []):
        if c in codes:
            probs.append("violation %s present" % c)
    if exp.get("violations_one_of") and not set(exp["violations_one_of"]) & set(codes):
        probs.append("none of the violations %s (got %s)" % (fmt(exp["violations_one_of"]), fmt(codes)))
    if "decode_incomplete" in exp:
        want("decode_incomplete", exp["decode_incomplete"], field(rec, "decode_incomplete"))
    if "decode_incomplete_has" in exp:
        di = field(rec, "decode_incomplete")
        if di is MISSING:
            probs.append("%s missing from the record (want it to contain %s)"
                         % (RECORD_FIELDS["decode_incomplete"], fmt(exp["decode_incomplete_has"])))
        else:
            lack = [x for x in exp["decode_incomplete_has"] if x not in (di or [])]
            if lack:
                probs.append("decode_incomplete %s lacks %s" % (fmt(di), fmt(lack)))
    if "candidate" in exp:
        want("candidate", exp["candidate"], field(rec, "candidate"))
    return probs


def check_eve_record(rec, eve):
    """The EVE dicom record must agree with the flow_end record."""
    probs = []
    d = eve.get("dicom") or {}
    for key in ("calling_ae", "called_ae", "outcome"):
        a, b = field(rec, key), d.get(EVE_FIELDS[key], MISSING)
        if a is not MISSING and a != b:
            probs.append("EVE %s %s, flow_end %s" % (key, fmt(b), fmt(a)))
    a, b = field(rec, "violations"), d.get(EVE_FIELDS["violations"], MISSING)
    if a is not MISSING and (b is MISSING or sorted(codes_of(a)) != sorted(codes_of(b))):
        probs.append("EVE violations %s, flow_end %s" % (fmt(b if b is MISSING else codes_of(b)),
                                                         fmt(codes_of(a))))
    return probs


def check_alerts(exp, alerts):
    probs = []
    sids = collections.Counter((a.get("alert") or {}).get("signature_id") for a in alerts)
    for s in exp.get("alerts_present", []):
        if not sids[s]:
            probs.append("alert %d (%s) missing (got %s)" % (s, SID_NAMES.get(s, "?"),
                                                             sorted(k for k in sids if k)))
    for s in exp.get("alerts_absent", []):
        if sids[s]:
            probs.append("alert %d (%s) raised" % (s, SID_NAMES.get(s, "?")))
    return probs, sids


def check_assoc_case(case, run):
    exp = case["expect"]
    fes = [e for e in run.flow_ends() if same_flow(ev_ends(e), case)]
    eves = [r for r in run.eve_records() if same_flow(eve_ends(r), case)]
    alerts = [a for a in run.eve_alerts() if same_flow(eve_ends(a), case)]
    probs = []
    if len(fes) != exp["records"]:
        probs.append("%d flow_end records, want %d" % (len(fes), exp["records"]))
    if len(eves) != exp["records"]:
        probs.append("%d EVE dicom records, want %d" % (len(eves), exp["records"]))
    if len(fes) == 1:
        probs += check_record(exp, fes[0])
        if len(eves) == 1:
            probs += check_eve_record(fes[0], eves[0])
    p, _ = check_alerts(exp, alerts)
    return probs + p


def check_http_case(case, run):
    exp = case["expect"]
    probs = []
    fes = [e for e in run.flow_ends() if same_flow(ev_ends(e), case)]
    eves = [r for r in run.eve_records() if same_flow(eve_ends(r), case)]
    if fes or eves:
        probs.append("%d flow_end and %d EVE dicom records for an HTTP connection, want none"
                     % (len(fes), len(eves)))
    dws = [e for e in run.dicomweb() if same_flow(ev_ends(e), case)]
    want = exp.get("dicomweb")
    if want is not None:
        if len(dws) != 1:
            probs.append("%d dicomweb events, want 1" % len(dws))
        for e in dws[:1]:
            for k, v in want.items():
                if e.get(k, MISSING) != v:
                    probs.append("dicomweb %s %s, want %s" % (k, fmt(e.get(k, MISSING)), fmt(v)))
    alerts = [a for a in run.eve_alerts() if same_flow(eve_ends(a), case)]
    p, sids = check_alerts(exp, alerts)
    probs += p
    for s in exp.get("alerts_present", []):
        if sids[s] > 1:
            probs.append("alert %d raised %d times for one request" % (s, sids[s]))
    if want is not None and 9100111 in exp.get("alerts_present", []):
        for a in alerts:
            if (a.get("alert") or {}).get("signature_id") == 9100111:
                keys = (a.get("dicom") or {}).get("phi_keys")
                if keys != want.get("phi_keys"):
                    probs.append("alert 9100111 phi_keys %s, want %s" % (fmt(keys), fmt(want.get("phi_keys"))))
    return probs


def canary_problems(canary, run):
    probs = []
    for variant in (canary, canary.replace("^", "%5E"), canary.split("^")[-1]):
        if variant and variant in run.text:
            probs.append("the planted value %r appears in dicomon's output" % variant)
            break
    return probs


def check_case(case, run):
    """All problems of one case in one run ([] = pass)."""
    probs = []
    if run.rc != 0:
        probs.append("dicomon replay exit status %d: %s" % (run.rc, run.stderr.strip()[-300:]))
    if run.bad_lines:
        probs.append("%d output lines are not JSON" % run.bad_lines)
    if case["kind"] == "http":
        probs += check_http_case(case, run)
    else:
        probs += check_assoc_case(case, run)
    if case["expect"].get("canary"):
        probs += canary_problems(case["expect"]["canary"], run)
    return probs


def extra_problems(capture, run):
    """Records, dicomweb events and alerts of flows no case of the capture names."""
    cases = capture["cases"]

    def known(ends):
        return any(same_flow(ends, c) for c in cases)

    probs = []
    for e in run.flow_ends():
        if not known(ev_ends(e)):
            probs.append("extra flow_end %s:%s -> %s:%s" % (e.get("src"), e.get("sport"),
                                                            e.get("dst"), e.get("dport")))
    for r in run.eve_records():
        if not known(eve_ends(r)):
            probs.append("extra EVE dicom record %s:%s -> %s:%s"
                         % (r.get("src_ip"), r.get("src_port"), r.get("dest_ip"), r.get("dest_port")))
    for e in run.dicomweb():
        if not known(ev_ends(e)):
            probs.append("extra dicomweb event %s:%s" % (e.get("src"), e.get("sport")))
    return probs


# ------------------------------------------------------------ reporting

class Report:
    def __init__(self, verbose=False, out=None):
        self.passed = self.failed = 0
        self.verbose = verbose
        self.out = out or sys.stdout

    def result(self, name, probs, note=None, depends=None):
        if probs:
            self.failed += 1
            dep = " [depends: %s]" % ", ".join(depends) if depends else ""
            print("FAIL %s%s: %s" % (name, dep, "; ".join(probs)), file=self.out)
        else:
            self.passed += 1
            print("PASS %s%s" % (name, " (%s)" % note if note else ""), file=self.out)

    def summary(self, what="adversarial"):
        print("%s: %d passed, %d failed" % (what, self.passed, self.failed), file=self.out)
        return 1 if self.failed else 0


def load_manifest(capdir):
    """expected.json with each case's "expect" completed from the defaults
    (a normal C-ECHO association) less the keys it lists as "unchecked"."""
    with open(os.path.join(capdir, "expected.json")) as f:
        man = json.load(f)
    for cap in man["captures"]:
        for c in cap["cases"]:
            exp = dict(man.get("defaults", {}))
            exp.update(c["expect"])
            for k in c.get("unchecked", []):
                exp.pop(k, None)
            c["expect"] = exp
    return man


def selected(man, only):
    rx = re.compile(only) if only else None
    for cap in man["captures"]:
        cases = [c for c in cap["cases"] if not rx or rx.search(c["name"])]
        if cases:
            yield cap, cases


def run_checks(a, man, rep):
    mut = []
    for cap, cases in selected(man, a.only):
        pcap = os.path.join(a.capdir, cap["file"])
        run = None
        if not a.mutation_only:
            run = run_replay(a.dicomon, pcap, cap.get("replay_args", []), a.keep)
            for c in cases:
                rep.result(c["name"], check_case(c, run), depends=c.get("depends"))
            extra = extra_problems(cap, run)
            if extra or len(cases) == len(cap["cases"]):
                rep.result("%s:no-extra-records" % cap["file"], extra)
        if not a.no_mutation and any(c.get("mutation") for c in cases):
            mut.append((cap, cases, run))
    # The mutation check: with candidate buffering off these cases must fail.
    for cap, cases, run in mut:
        pcap = os.path.join(a.capdir, cap["file"])
        off = run_replay(a.dicomon, pcap, cap.get("replay_args", []) + CANDIDATES_OFF, a.keep)
        for c in cases:
            if not c.get("mutation"):
                continue
            probs = check_case(c, off)
            name = "mutation:%s" % c["name"]
            if not probs:
                rep.result(name, ["passes with detection.candidate_seconds=0: the case does not "
                                  "prove candidate buffering"])
            else:
                vacuous = run is not None and check_case(c, run)
                rep.result(name, [], note="fails without candidates%s: %s"
                           % (" (vacuous: fails with them too)" if vacuous else "", probs[0])
                           if a.verbose or vacuous else None)


# ------------------------------------------------------------ the tshark oracle

def load_check_assoc():
    path = os.path.join(HERE, "..", "e2e", "check_assoc.py")
    spec = importlib.util.spec_from_file_location("check_assoc", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tshark_conns(ca, pcap, decode):
    """tshark's view of every TCP connection of a capture (check_assoc's PDML reader)."""
    import xml.etree.ElementTree as ET
    dicom = [int(d.split("==")[1].split(",")[0]) for d in decode if d.endswith(",dicom")]
    http = [int(d.split("==")[1].split(",")[0]) for d in decode if d.endswith(",http")]
    cmd = ca.tshark_pdml_cmd(pcap, dicom, (), http)
    # A receiver reassembles out-of-order segments; tshark 4.0 does not by default.
    cmd[4:4] = ["-o", "tcp.reassemble_out_of_order:TRUE"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    frames = []
    for _, el in ET.iterparse(proc.stdout, events=("end",)):
        if el.tag == "packet":
            rec = ca.pdml_packet(el)
            el.clear()
            if rec is not None:
                frames.append(rec)
    proc.stdout.close()
    if proc.wait() != 0:
        raise SystemExit("tshark failed on %s" % pcap)
    return ca.build_conns(frames, dicom + http)


def oracle_problems(case, conn):
    """The case's expectations against tshark's decode of its connection."""
    exp, skip = case["expect"], set(case.get("oracle_skip", []))
    if conn is None:
        return ["tshark found no such TCP connection"]
    probs = []
    if case["kind"] == "http":
        uris = [u for m, u in conn.http if m == exp["dicomweb"]["method"]]
        if len(uris) != 1 or case["expect"]["canary"] not in (uris[0] or ""):
            probs.append("tshark requests %s, want one GET naming the canary" % conn.http)
        return probs
    ts = conn.ts
    # Without a decoded RQ (conflicting overlaps) the AC's echo names both parties.
    src = ts.rq if ts.rq is not None else ts.ac
    for k, tk in (("calling_ae", "calling"), ("called_ae", "called")):
        if k in exp and k not in skip and (src or {}).get(tk) != exp[k]:
            probs.append("tshark %s %r, want %r" % (k, (src or {}).get(tk), exp[k]))
    if "contexts" in exp and "contexts" not in skip:
        n = len((ts.rq or {}).get("pcs", []))
        if n != exp["contexts"]:
            probs.append("tshark contexts %d, want %d" % (n, exp["contexts"]))
    for d in ("orig", "reply"):
        k = "pdus_" + d
        if k in exp and k not in skip and dict(ts.pdus[d]) != exp[k]:
            probs.append("tshark %s %s, want %s" % (k, fmt(dict(ts.pdus[d])), fmt(exp[k])))
    if "commands" in exp and "commands" not in skip and dict(ts.commands) != exp["commands"]:
        probs.append("tshark commands %s, want %s" % (fmt(dict(ts.commands)), fmt(exp["commands"])))
    if "outcome" in exp and "outcome" not in skip and ts.outcome() != exp["outcome"]:
        probs.append("tshark outcome %s, want %s" % (ts.outcome(), exp["outcome"]))
    if conn.fin_rst < 2:
        probs.append("tshark sees %d FIN/RST segments, want both FINs" % conn.fin_rst)
    return probs


def run_oracle(a, man, rep):
    ca = load_check_assoc()
    for cap, cases in selected(man, a.only):
        conns = tshark_conns(ca, os.path.join(a.capdir, cap["file"]), cap["tshark_decode"])
        by_client = {c.client: c for c in conns.values() if c.client}
        for case in cases:
            conn = by_client.get((case["client"], case["sport"]))
            rep.result("oracle:%s" % case["name"], oracle_problems(case, conn))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("capdir", help="directory with expected.json and the captures")
    p.add_argument("--dicomon", default=os.environ.get("DICOMON", ".output/dicomon"))
    p.add_argument("--only", help="regular expression: the cases to run")
    p.add_argument("--no-mutation", action="store_true",
                   help="skip the run with detection.candidate_seconds=0")
    p.add_argument("--mutation-only", action="store_true",
                   help="only the run with detection.candidate_seconds=0")
    p.add_argument("--oracle", action="store_true", help="tshark vs expected.json (no root)")
    p.add_argument("--keep", help="write each run's stdout, stderr and EVE here")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    man = load_manifest(a.capdir)
    rep = Report(a.verbose)
    if a.oracle:
        run_oracle(a, man, rep)
        return rep.summary("oracle")
    if not os.access(a.dicomon, os.X_OK):
        print("check_adversarial: %s is not executable" % a.dicomon, file=sys.stderr)
        return 2
    run_checks(a, man, rep)
    return rep.summary()


if __name__ == "__main__":
    sys.exit(main())
