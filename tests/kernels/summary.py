#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The kernel runner's report, as Markdown (the README's kernel table).

    summary.py OUTDIR KERNEL...

OUTDIR/host holds the running kernel's reference (version.json, replay/);
OUTDIR/KERNEL, what tests/kernels/guest.sh wrote in each guest (results.tsv,
version.json, load.tsv, done) and run.sh's replay-compare.txt and accel.
Prints three tables: results per kernel and step, kernel features, and the
verifier's work per program with load-and-attach times. Exit 1 if a kernel
did not finish, a step failed, or a replay record differs from the host's.
"""
import json
import os
import sys

FEATURES = [
    ("btf", "BTF"),
    ("bpf_loop", "bpf_loop"),
    ("xdp_load_bytes", "bpf_xdp_load_bytes"),
    ("ringbuf", "ring buffer"),
    ("tcx", "tcx (else clsact, dicomon first)"),
    ("xdp_rx_vlan_tag", "XDP RX VLAN kfunc (else in-packet tags only)"),
]
PROGRAMS = ["dicomon_xdp", "dicomon_tc_ingress", "dicomon_tc_egress", "dicomon_replay"]


def read(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return default


def load_json(path):
    text = read(path)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def results(kdir):
    rows = []
    for line in (read(os.path.join(kdir, "results.tsv"), "") or "").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            rows.append((parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    return rows


def load_times(kdir):
    """{(interfaces, hooks): ready seconds} from load.tsv."""
    out = {}
    for line in (read(os.path.join(kdir, "load.tsv"), "") or "").splitlines()[1:]:
        p = line.split("\t")
        if len(p) == 5:
            out[(p[0], p[1])] = p[4]
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out, kernels = argv[1], argv[2:]
    host = load_json(os.path.join(out, "host", "version.json")) or {}
    ok = True
    lines = []
    steps = []
    per = {}
    for k in kernels:
        kdir = os.path.join(out, k)
        r = results(kdir)
        per[k] = {s: (st, secs, det) for s, st, secs, det in r}
        for s, _, _, _ in r:
            if s not in steps:
                steps.append(s)
    lines.append("| kernel | qemu | " + " | ".join(steps) + " | replay = host |")
    lines.append("|---" * (len(steps) + 3) + "|")
    for k in kernels:
        kdir = os.path.join(out, k)
        done = os.path.exists(os.path.join(kdir, "done"))
        accel = (read(os.path.join(kdir, "accel"), "?") or "?").strip()
        cells = []
        for s in steps:
            st, secs, det = per[k].get(s, ("-", "", ""))
            if st == "FAIL":
                ok = False
            cells.append(f"{st} ({secs} s)" if st != "-" else "-")
        cmp_text = read(os.path.join(kdir, "replay-compare.txt"), "") or ""
        last = cmp_text.strip().splitlines()[-1] if cmp_text.strip() else "no comparison"
        same = last.startswith("replay-compare:") and " 0 differ" in last and not last.startswith(
            "replay-compare: 0 equal")
        if "replay" in per[k] and not same:
            ok = False
        if not done:
            ok = False
            cells.append("did not finish")
        lines.append(f"| {k} | {accel} | " + " | ".join(cells) +
                     f" | {last.replace('replay-compare: ', '')} |")

    lines.append("")
    hostname = host.get("kernel", "host")
    lines.append("| feature | " + " | ".join(kernels) + f" | {hostname} (host) |")
    lines.append("|---" * (len(kernels) + 2) + "|")
    versions = {k: load_json(os.path.join(out, k, "version.json")) or {} for k in kernels}
    for key, what in FEATURES:
        row = []
        for v in list(versions.values()) + [host]:
            have = (v.get("features") or {}).get(key)
            row.append("yes" if have else "no" if have is False else "?")
        lines.append(f"| {what} | " + " | ".join(row) + " |")
    row = []
    for v in list(versions.values()) + [host]:
        runs = (v.get("load_check") or {}).get("runs")
        row.append("yes" if runs else "NO" if runs is False else "?")
    lines.append("| `dicomon version`: runs dicomon | " + " | ".join(row) + " |")

    lines.append("")
    lines.append("| verifier: instructions processed (load s) | " + " | ".join(kernels) +
                 f" | {hostname} (host) |")
    lines.append("|---" * (len(kernels) + 2) + "|")
    for prog in PROGRAMS:
        row = []
        for v in list(versions.values()) + [host]:
            cell = "?"
            for p in (v.get("load_check") or {}).get("programs", []):
                if p.get("name") == prog:
                    cell = (f"{p['verified_insns']} ({p['load_seconds']:.2f})" if p.get("loaded")
                            else f"refused: {p.get('verifier') or p.get('error')}")
            row.append(cell)
        lines.append(f"| {prog} | " + " | ".join(row) + " |")
    for n, hooks in (("1", "xdp"), ("4", "xdp"), ("4", "xdp+tc")):
        row = []
        for k in kernels:
            t = load_times(os.path.join(out, k)).get((n, hooks))
            row.append(f"{t} s" if t else "-")
        row.append("`make bench`")
        lines.append(f"| `dicomon run` ready, {n} interface{'s' if n != '1' else ''} ({hooks}) | " +
                     " | ".join(row) + " |")
    print("\n".join(lines))
    print()
    print("kernels: " + ("all passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
