#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Compare dicomon replay output from two kernels, record for record.

    compare_replay.py HOST_DIR GUEST_DIR

Each directory holds NAME.jsonl (replay --json) and NAME.eve.json (--eve) per
committed capture. Every line must be equal once the fields that measure the
run rather than the traffic are dropped: the replay summary's seconds and
packets_per_second, and the BPF run-time statistics of the stats line.
Prints one line per capture and a last line "replay-compare: N equal,
M differ"; exit 0 if M = 0.
"""
import json
import os
import sys

VOLATILE = {"seconds", "packets_per_second", "run_time_ns", "run_cnt", "bpf_prog"}


def scrub(obj):
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(scrub(json.loads(line)))
            except ValueError:
                out.append({"unparsable line": n, "text": line[:200]})
    return out


def first_diff(a, b, path=""):
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'host' if k in a else 'guest'}"
            d = first_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    host, guest = argv[1], argv[2]
    names = sorted(f for f in os.listdir(host) if f.endswith((".jsonl", ".eve.json")))
    equal = differ = 0
    for name in names:
        gpath = os.path.join(guest, name)
        if not os.path.exists(gpath):
            print(f"DIFF {name}: no output from the guest")
            differ += 1
            continue
        a, b = load(os.path.join(host, name)), load(gpath)
        problem = None
        if len(a) != len(b):
            problem = f"{len(a)} records on the host, {len(b)} in the guest"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y)
            if d:
                problem = (problem + "; " if problem else "") + f"record {i + 1}{d}"
                break
        if problem:
            print(f"DIFF {name}: {problem}")
            differ += 1
        else:
            print(f"SAME {name}: {len(a)} records")
            equal += 1
    print(f"replay-compare: {equal} equal, {differ} differ")
    return 0 if differ == 0 and equal > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
