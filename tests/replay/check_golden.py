#!/usr/bin/env python3
"""dicomon's output over every committed capture, byte for byte against golden files.

Run from the repository root (the outputs name the captures by their relative
paths). For each capture under tests/replay/captures and tests/adversarial/captures:

  NAME.json  stdout of `dicomon replay --json --eve E --metrics-out M CAPTURE`
  NAME.eve   the EVE feed E of that run
  NAME.prom  the metrics M of that run (Prometheus text format)
  NAME.txt   stdout and stderr of `dicomon replay CAPTURE` (text lines, counters)

(.prom and .txt for the ground-truth captures of tests/replay only: the
adversarial ones add little to what those renderers show but megabytes.)

The only things that differ from run to run are left out: the replay summary's
`seconds` and `packets_per_second` (JSON), the "in S s (N packets/s)" of the
text summary, and the host's kernel.bpf_stats_enabled in the metrics.
Everything else must be identical to tests/replay/golden/, so a
change that was meant to keep behaviour (a refactoring) proves it did, and a
change that was meant to alter it shows exactly what it altered: regenerate with
--update and commit the golden files with it.

The same golden files hold whatever way replay runs the frames through the
kernel: --batch N replays with N frames per BPF_PROG_TEST_RUN
(DICOMON_REPLAY_BATCH; 1 is one test run per packet, as replay did before it
ran batches), --arg passes an option to every replay (e.g. a small ring buffer,
which stops batches at a quarter full), so make test-replay holds batching to the
files written before it existed.

Usage: check_golden.py --dicomon PATH [--golden DIR] [--update] [--only REGEX]
                       [--batch N] [--arg ARG]... [CAPTURE...]
Exit 0 when every output matches (or was updated), 1 otherwise.
"""

import argparse
import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

CAPTURE_GLOBS = [
    "tests/replay/captures/*.pcap",
    "tests/replay/captures/*.pcapng",
    "tests/adversarial/captures/*.pcap",
]
TIMING_JSON = re.compile(r',"seconds":[-+0-9.eE]+,"packets_per_second":[-+0-9.eE]+(?:inf|nan)?')
TIMING_TEXT = re.compile(r" in [0-9.]+ s \([0-9]+ packets/s\)")
# The host's kernel.bpf_stats_enabled sysctl, not dicomon's doing (a benchmark may turn it on).
HOST_PROM = re.compile(r"^dicomon_bpf_stats_enabled [01]$", re.M)
TIMEOUT = 300


def normalise_json(text):
    return TIMING_JSON.sub("", text)


def normalise_text(text):
    return TIMING_TEXT.sub(" in S s (N packets/s)", text)


def golden_name(capture):
    base = os.path.basename(capture)
    return re.sub(r"\.(pcap|pcapng)$", "", base)


def full_outputs(capture):
    return capture.startswith("tests/replay/")


def run_capture(dicomon, capture, args=(), env=None):
    """The outputs of one capture, normalised, as {suffix: text}."""
    args = list(args)
    with tempfile.TemporaryDirectory(prefix="dmgold.") as tmp:
        eve = os.path.join(tmp, "eve.json")
        prom = os.path.join(tmp, "metrics.prom")
        r = subprocess.run(
            [dicomon, "replay", "--json", "--eve", eve, "--metrics-out", prom] + args + [capture],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT, check=False, env=env)
        out = {"json": normalise_json(r.stdout.decode("utf-8", "replace")) +
               f"# exit status {r.returncode}\n"}
        for suffix, path in (("eve", eve), ("prom", prom)):
            if suffix == "prom" and not full_outputs(capture):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    out[suffix] = f.read()
                if suffix == "prom":
                    out[suffix] = HOST_PROM.sub("dicomon_bpf_stats_enabled (the host's)",
                                                out[suffix])
            except OSError as e:
                out[suffix] = f"# not written: {e.strerror}\n"
        if not full_outputs(capture):
            return out
        r = subprocess.run([dicomon, "replay"] + args + [capture], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=TIMEOUT, check=False, env=env)
        out["txt"] = normalise_text(r.stdout.decode("utf-8", "replace")) + \
            f"# exit status {r.returncode}\n"
    return out


def first_diff(want, got, label, limit=40):
    lines = list(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                      fromfile=f"golden/{label}", tofile=f"now/{label}", n=1))
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"... {len(lines) - limit} more diff lines\n")
    return "".join(shown)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dicomon", required=True)
    ap.add_argument("--golden", default="tests/replay/golden")
    ap.add_argument("--update", action="store_true", help="rewrite the golden files")
    ap.add_argument("--only", help="captures whose name matches this regex")
    ap.add_argument("--batch", type=int, help="frames per test run (DICOMON_REPLAY_BATCH)")
    ap.add_argument("--arg", action="append", default=[], help="an argument for every replay")
    ap.add_argument("captures", nargs="*")
    a = ap.parse_args(argv)
    env = dict(os.environ)
    if a.batch is not None:
        env["DICOMON_REPLAY_BATCH"] = str(a.batch)
    if a.update and (a.batch is not None or a.arg):
        print("golden: --update writes what a default replay gives: no --batch or --arg",
              file=sys.stderr)
        return 1

    captures = a.captures or sorted(c for g in CAPTURE_GLOBS for c in glob.glob(g))
    if a.only:
        captures = [c for c in captures if re.search(a.only, golden_name(c))]
    if not captures:
        print("golden: no captures", file=sys.stderr)
        return 1
    names = [golden_name(c) for c in captures]
    if len(set(names)) != len(names):
        print("golden: two captures share a name", file=sys.stderr)
        return 1
    os.makedirs(a.golden, exist_ok=True)

    passed = failed = updated = 0
    for cap, name in zip(captures, names):
        try:
            out = run_capture(a.dicomon, cap, a.arg, env)
        except subprocess.TimeoutExpired:
            print(f"FAIL {name}: dicomon replay did not finish in {TIMEOUT} s")
            failed += 1
            continue
        bad = []
        for suffix, text in out.items():
            path = os.path.join(a.golden, f"{name}.{suffix}")
            try:
                with open(path, encoding="utf-8") as f:
                    want = f.read()
            except FileNotFoundError:
                want = None
            if want == text:
                continue
            if a.update:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                updated += 1
                continue
            bad.append(f"{name}.{suffix}: no golden file\n" if want is None
                       else first_diff(want, text, f"{name}.{suffix}"))
        if bad:
            failed += 1
            print(f"FAIL {name}")
            for b in bad:
                sys.stdout.write("    " + b.replace("\n", "\n    ").rstrip(" "))
        else:
            passed += 1
    if a.update:
        stale = set(os.listdir(a.golden)) - {f"{golden_name(c)}.{s}" for c in captures
                                             for s in ("json", "eve", "prom", "txt")
                                             if s in ("json", "eve") or full_outputs(c)}
        for f in sorted(stale):
            if not a.only and not a.captures:
                os.unlink(os.path.join(a.golden, f))
                print(f"golden: removed {f} (not kept for any capture)")
        print(f"golden: {updated} files written")
    how = "".join([f" batch={a.batch}" if a.batch is not None else ""] +
                  [f" {x}" for x in a.arg])
    print(f"golden{how}: {passed} captures identical, {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
