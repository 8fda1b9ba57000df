#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""`dicomon replay`'s progress line (root: BPF_PROG_TEST_RUN).

On the recorded tests/e2e/testdata/assoc/sample.pcapng (221 packets), with
DICOMON_PROGRESS_EVERY=N forcing a redraw every N packets (the real cadence is
time-based, at most 4 a second, and would make a short capture print nothing):
- stderr on a pseudo-terminal: \\r-rewritten lines with packets (multiples of
  N, increasing) and the percentage of the file read, cleared at the end;
  stdout (the feed, --eve -) byte-identical to a run with stderr a file;
- stderr a file: nothing progress-like (no \\r, no progress text);
- --quiet and -q on a terminal: no progress line, the summary still there.

  sudo tests/replay/test_progress.py [--dicomon PATH]
"""
import argparse
import os
import re
import select
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(REPO, "tests/e2e/testdata/assoc/sample.pcapng")
EVERY = 20
LINE = re.compile(rb"\rdicomon replay: (\d+) packets, \d+ packets/s, "
                  rb"[\d.]+ of ([\d.]+) MB \((\d+)%\), ETA (?:\d+:\d\d:\d\d|-:--:--)\x1b\[K")
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def run(dicomon, args, tty, env_every, outpath):
    """Run replay with stdout to outpath; stderr to a pty (tty) or a file. Returns stderr bytes."""
    env = dict(os.environ)
    env.pop("DICOMON_PROGRESS_EVERY", None)
    if env_every:
        env["DICOMON_PROGRESS_EVERY"] = str(env_every)
    with open(outpath, "wb") as out:
        if not tty:
            with tempfile.TemporaryFile() as err:
                rc = subprocess.run([dicomon, "replay"] + args, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, env=env, timeout=300).returncode
                err.seek(0)
                data = err.read()
            check(rc == 0, f"replay {' '.join(args)} (stderr a file) exits 0")
            return data
        master, slave = os.openpty()
        p = subprocess.Popen([dicomon, "replay"] + args, stdout=out, stderr=slave,
                             stdin=subprocess.DEVNULL, env=env)
        os.close(slave)
        data, deadline = b"", time.monotonic() + 300
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 1.0)
            if not r:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the slave's last holder closed it
                break
            if not chunk:
                break
            data += chunk
        os.close(master)
        rc = p.wait(timeout=60)
        check(rc == 0, f"replay {' '.join(args)} (stderr a tty) exits 0")
        return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dicomon", default=os.environ.get("DICOMON",
                                                        os.path.join(REPO, ".output/dicomon")))
    a = ap.parse_args()
    if os.geteuid():
        sys.exit("must run as root")
    with tempfile.TemporaryDirectory(prefix="dmprogress.") as w:
        args = ["--eve", "-", SAMPLE]
        base = os.path.join(w, "file.out")
        err = run(a.dicomon, args, False, EVERY, base)
        check(b"\r" not in err and b"dicomon replay:" not in err and b"\x1b[" not in err,
              "stderr not a tty: no progress line")
        check(b"dicomon: replayed 221 packets" in err, "stderr not a tty: the summary is there")

        tty = os.path.join(w, "tty.out")
        err = run(a.dicomon, args, True, EVERY, tty)
        lines = LINE.findall(err)
        counts = [int(m[0]) for m in lines]
        check(len(lines) == 221 // EVERY, f"tty: {221 // EVERY} progress lines "
              f"(one every {EVERY} packets), got {len(lines)}")
        check(counts == [EVERY * (i + 1) for i in range(len(counts))],
              f"tty: packet counts {EVERY}, {2 * EVERY}, ...: {counts}")
        pcts = [int(m[2]) for m in lines]
        check(pcts == sorted(pcts) and pcts and 0 < pcts[0] and pcts[-1] <= 100
              and pcts[-1] >= 80, f"tty: percentages grow to the end of the file: {pcts}")
        size_mb = os.path.getsize(SAMPLE) / 1e6
        check(all(abs(float(m[1]) - size_mb) < 0.06 for m in lines),
              f"tty: the total is the file's size ({size_mb:.3f} MB)")
        summary = err.find(b"dicomon: replayed 221 packets")
        check(summary > 0 and err[:summary].endswith(b"\r\x1b[K"),
              "tty: the line is cleared before the summary")
        check(open(tty, "rb").read() == open(base, "rb").read() and os.path.getsize(base) > 0,
              "tty: stdout byte-identical to the run with stderr a file")

        for q in ("--quiet", "-q"):
            err = run(a.dicomon, [q] + args, True, EVERY, os.path.join(w, "quiet.out"))
            check(b"dicomon replay:" not in err and b"\x1b[K" not in err,
                  f"tty with {q}: no progress line")
            check(b"dicomon: replayed 221 packets" in err, f"tty with {q}: the summary is there")
        # Without the knob: 221 packets never reach the 1024-packet check.
        err = run(a.dicomon, args, True, 0, os.path.join(w, "short.out"))
        check(b"dicomon replay:" not in err, "tty, short capture, real cadence: no line")
    if fails:
        sys.exit(f"test_progress: {len(fails)} check(s) failed")
    print("test_progress: all checks passed")


if __name__ == "__main__":
    main()
