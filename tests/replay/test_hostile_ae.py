#!/usr/bin/env python3
"""Hostile AE titles through `dicomon replay`'s text lines (issue 14): no forged field.

gen_hostile_ae writes a capture of whole associations whose AE titles (calling,
called, and the C-MOVE's Move Destination) hold quotes, backslashes, newlines,
NUL, escape sequences, 0x7f and high bytes, each shaped to close its quotes and
start a field of its own (`X" called="ADMIN`). `dicomon replay CAPTURE` (text)
runs on it; every event line is read by a strict key=value reader (bare words,
KEY=WORD, KEY="..." with exactly the escapes \\" \\\\ \\xNN; anything else is an
error), and each association's lines must carry exactly the fields dicomon
writes, once each, the AE titles equal to what the decoder makes of the bytes
(decode/pdu.c's dm_ae_string: spaces trimmed, bytes outside 0x20..0x7e and the
backslash as \\xNN) after undoing the escape.

Usage: test_hostile_ae.py --dicomon PATH --gen PATH [-v]   (root: BPF_PROG_TEST_RUN)
Exit 0 when every check passes, 1 otherwise.
"""

import argparse
import re
import subprocess
import sys
import tempfile

PDU_NAMES = {"A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", "A-ASSOCIATE-RJ", "P-DATA-TF",
             "A-RELEASE-RQ", "A-RELEASE-RP", "A-ABORT"}
# The keys each kind of line may carry: anything else was forged.
KEYS_PDU = {"assoc", "pcap", "calling", "called"}
KEYS_MOVE = {"assoc", "pcap", "msg", "move_destination"}
KEYS_END = {"assoc", "pcap", "reason", "state", "outcome", "transport", "calling", "called",
            "toolkit", "commands", "orig", "reply", "duration"} | PDU_NAMES
TIME = re.compile(r"^\d{4}-\d\d-\d\dT")


class Strict(Exception):
    pass


def unquote(s, i):
    """The quoted value starting after s[i-1] == '"'; (value bytes, index after it)."""
    out = bytearray()
    while True:
        if i >= len(s):
            raise Strict("unterminated quotes")
        c = s[i]
        if c == '"':
            i += 1
            if i < len(s) and s[i] != " ":
                raise Strict("a closing quote inside a token")
            return bytes(out), i
        if ord(c) < 0x20 or ord(c) >= 0x7f:
            raise Strict(f"raw byte {ord(c):#x} inside quotes")
        if c == "\\":
            e = s[i + 1:i + 2]
            if e in ('"', "\\"):
                out += e.encode()
                i += 2
            elif e == "x" and re.fullmatch(r"[0-9a-f]{2}", s[i + 2:i + 4]):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
            else:
                raise Strict(f"unknown escape \\{e}")
        else:
            out += c.encode()
            i += 1


def parse(line):
    """Tokens of one line: a list of (key or None, value bytes)."""
    toks, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        m = re.compile(r'([^ "=\\]+)=').match(line, i)
        key = None
        if m:
            key, i = m.group(1), m.end()
        if i < len(line) and line[i] == '"':
            val, i = unquote(line, i + 1)
        else:
            j = i
            while j < len(line) and line[j] != " ":
                if line[j] in '"\\' or ord(line[j]) < 0x21 or ord(line[j]) >= 0x7f:
                    raise Strict(f"{line[j]!r} in a bare word")
                j += 1
            val, i = line[i:j].encode(), j
        toks.append((key, val))
    return toks


def ae_string(raw):
    """decode/pdu.c's dm_ae_string of 16 bytes."""
    raw = raw.ljust(16, b" ")
    lo, hi = 0, 16
    while lo < hi and raw[lo] == 0x20:
        lo += 1
    while hi > lo and raw[hi - 1] == 0x20:
        hi -= 1
    return "".join(chr(b) if 0x20 <= b <= 0x7e and b != 0x5C else f"\\x{b:02x}"
                   for b in raw[lo:hi]).encode()


class Checks:
    def __init__(self, verbose):
        self.failed = self.passed = 0
        self.verbose = verbose

    def check(self, ok, name, detail=""):
        if not ok or self.verbose:
            print(("PASS " if ok else "FAIL ") + "hostile_ae: " + name + ("" if ok else ": " + detail))
        self.failed += not ok
        self.passed += bool(ok)


def check_line(c, kind, toks, allowed, want, line):
    keys = [k for k, _ in toks if k]
    forged = sorted(set(keys) - allowed)
    c.check(not forged, f"{kind}: no forged field", f"{forged} in {line!r}")
    for k, v in want.items():
        got = [val for key, val in toks if key == k]
        c.check(got == [v], f"{kind}: {k} once, as decoded", f"{got} != [{v!r}] in {line!r}")
    if kind == "END":
        for k in ("outcome", "state", "reason"):
            c.check(keys.count(k) == 1, f"END: {k} once", line)


def run(dicomon, gen, c):
    with tempfile.TemporaryDirectory(prefix="dmhostile.") as tmp:
        pcap, tsv = f"{tmp}/hostile_ae.pcap", f"{tmp}/hostile_ae.tsv"
        subprocess.run([gen, pcap, tsv], check=True)
        rows = [l.rstrip("\n").split("\t") for l in open(tsv)]
        r = subprocess.run([dicomon, "replay", pcap], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120, check=False)
    c.check(r.returncode == 0, "replay exits 0", r.stderr.decode(errors="replace")[-400:])
    # The bytes as written: a raw newline from a title would split a line (and fail here).
    lines = [l for l in r.stdout.decode("latin-1").split("\n") if TIME.match(l)]
    by_port = {}
    for line in lines:
        try:
            toks = parse(line)
        except Strict as e:
            c.check(False, "every event line is strict key=value", f"{e}: {line!r}")
            continue
        m = re.search(r" 10\.61\.0\.1:(\d+) ", line)
        c.check(m is not None, "every event line names the client", line)
        if m:
            by_port.setdefault(int(m.group(1)), []).append((line, toks))
    for sport, ae_hex, move_hex in rows:
        ae = ae_string(bytes.fromhex(ae_hex))
        got = by_port.get(int(sport), [])
        kinds = [next(v for k, v in t if k is None and v.decode() in PDU_NAMES | {"C-MOVE-RQ", "END"})
                 .decode() if any(k is None and v.decode() in PDU_NAMES | {"C-MOVE-RQ", "END"}
                                  for k, v in t) else "?" for _, t in got]
        want_kinds = ["A-ASSOCIATE-RQ", "A-ASSOCIATE-AC"] + (["C-MOVE-RQ"] if move_hex != "-" else []) \
            + ["A-RELEASE-RQ", "A-RELEASE-RP", "END"]
        c.check(kinds == want_kinds, f"port {sport}: its lines", f"{kinds} != {want_kinds}")
        for line, toks in got:
            words = {v.decode() for k, v in toks if k is None}
            if words & {"A-ASSOCIATE-RQ", "A-ASSOCIATE-AC"}:
                check_line(c, "PDU", toks, KEYS_PDU, {"calling": ae, "called": ae}, line)
            elif "C-MOVE-RQ" in words:
                mv = ae_string(bytes.fromhex(move_hex))
                check_line(c, "C-MOVE-RQ", toks, KEYS_MOVE, {"move_destination": mv}, line)
            elif "END" in words:
                check_line(c, "END", toks, KEYS_END, {"calling": ae, "called": ae,
                                                      "outcome": b"released"}, line)
    c.check(len(by_port) == len(rows), "one set of lines per association",
            f"{sorted(by_port)} vs {len(rows)} associations")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dicomon", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("-v", action="store_true", help="print every check, not only failures")
    a = ap.parse_args(argv)
    c = Checks(a.v)
    run(a.dicomon, a.gen, c)
    print(f"hostile_ae: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
