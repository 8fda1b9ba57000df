#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The soak test's judge: associations made (assocload client's lines) against the
association records dicomon wrote (its EVE file).

An association the client completed (outcome ok: AC, C-ECHO-RSP, RP) must have exactly
one `event_type: dicom` record with the client's address, its source port, the
server's port and a start no earlier than 1 s before the client's start and no later
than the client's timeout after it (assocload's ports are not reused that fast: a
closed port waits in TIME_WAIT for 60 s). Reported per phase (the phase an association
started in): made, recorded, missing, duplicated, records without the AE titles the
client sent, records ended otherwise than by FIN; the client's failures; records of the
client's address that match no association. A completed association whose life (start to
end) overlaps a declared blind window (--blind: from the last drain interval before the kill -9 of a
daemon whose pins, ring buffer included, die with it, to the next daemon's ready line, when no program of dicomon's is attached by design) and has
no record is counted as `blind_miss`, shown and not asserted. From each /metrics scrape, the daemon's
loss counters (every sample of a family whose name speaks of a loss: fail, drop, evict,
lost, malformed, broken, full, cut), summed per family.

Exit 1 if any completed association is missing or duplicated, 0 otherwise, 2 on bad
input.
"""
import argparse
import collections
import datetime
import json
import re
import sys

LOSS_RE = re.compile(r"fail|drop|evict|lost|malformed|broken|full|cut|expired")


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def read_client(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split(None, 5)
            if len(parts) != 6:
                raise ValueError(f"{path}:{n}: want 'sport dport start end outcome reason'")
            rows.append({"sport": int(parts[0]), "dport": int(parts[1]),
                         "start": float(parts[2]), "end": float(parts[3]),
                         "ok": parts[4] == "ok", "reason": parts[5].strip()})
    return rows


def read_eve(path, client_ip, port):
    """The dicom records of the client's address to the server port; the rest counted."""
    recs, other, bad = [], 0, 0
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if r.get("event_type") != "dicom":
                continue
            if r.get("src_ip") != client_ip or r.get("dest_port") != port:
                other += 1
                continue
            d = r.get("dicom") or {}
            start = d.get("start") or r.get("timestamp")
            recs.append({"sport": r.get("src_port"), "start": parse_ts(start),
                         "flow_id": r.get("flow_id"), "calling": d.get("calling_ae"),
                         "called": d.get("called_ae"), "end_reason": d.get("end_reason"),
                         "used": False})
    return recs, other, bad


def read_phases(path):
    phases = []
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, t = line.split()
                phases.append((name, float(t)))
    return phases


def phase_of(phases, t):
    name = phases[0][0] if phases else "all"
    for n, start in phases:
        if t >= start:
            name = n
    return name


def read_metrics(path):
    """Loss counters of one Prometheus text scrape: family -> summed value."""
    out = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
            if not m or not LOSS_RE.search(m.group(1) + (m.group(2) or "")):
                continue
            if m.group(1).endswith(("_bucket", "_sum", "_count")):
                continue
            out[m.group(1) + _loss_label(m.group(2))] = out.get(
                m.group(1) + _loss_label(m.group(2)), 0) + float(m.group(3))
    return out


def read_loop(path):
    """The event loop's longest handler run in one scrape: (seconds, handler, runs over 50 ms)."""
    best, handler, slow = 0.0, None, 0.0
    with open(path) as f:
        for line in f:
            m = re.match(r'dicomon_loop_(block_max_seconds|slow_runs_total)\{handler="([^"]*)"\}\s+(\S+)',
                         line)
            if not m:
                continue
            v = float(m.group(3))
            if m.group(1) == "slow_runs_total":
                slow += v
            elif v >= best:
                best, handler = v, m.group(2)
    return best, handler, slow


def _loss_label(labels):
    """Keep the label that names the loss (a counter family split by reason/counter)."""
    if not labels:
        return ""
    for key in ("counter", "reason", "event", "output", "table"):
        m = re.search(key + r'="([^"]*)"', labels)
        if m and LOSS_RE.search(m.group(1)):
            return "{" + key + '="' + m.group(1) + '"}'
    return ""


def match(assocs, recs, tolerance_before, tolerance_after):
    by_port = collections.defaultdict(list)
    for r in recs:
        by_port[r["sport"]].append(r)
    for a in assocs:
        a["records"] = [r for r in by_port.get(a["sport"], ())
                        if a["start"] - tolerance_before <= r["start"]
                        <= a["start"] + tolerance_after]
        for r in a["records"]:
            r["used"] = True


def read_blind(path):
    with open(path) as f:
        return [(float(a), float(b)) for _, a, b in
                (line.split() for line in f if line.strip() and not line.startswith("#"))]


def tally(assocs, phases, calling, called, blind=()):
    rows = collections.OrderedDict((n, collections.Counter()) for n, _ in phases)
    ends = collections.Counter()
    for a in assocs:
        c = rows.setdefault(phase_of(phases, a["start"]), collections.Counter())
        if not a["ok"]:
            c["failed"] += 1
            c["failed_recorded"] += 1 if a["records"] else 0
            continue
        c["made"] += 1
        n = len(a["records"])
        c["recorded"] += 1 if n else 0
        if n == 0 and any(a["start"] <= b1 and a["end"] >= b0 for b0, b1 in blind):
            c["blind_miss"] += 1
        elif n == 0:
            c["missing"] += 1
        c["duplicated"] += 1 if n > 1 else 0
        for r in a["records"]:
            if r["calling"] != calling or r["called"] != called:
                c["no_identity"] += 1
            if r["end_reason"] != "fin":
                c["abnormal_end"] += 1
            ends[r["end_reason"]] += 1
    return rows, ends


COLS = ("made", "recorded", "missing", "blind_miss", "duplicated", "no_identity", "abnormal_end", "failed",
        "failed_recorded")


def print_table(rows, phases, t_end, out):
    bounds = {n: t for n, t in phases}
    names = [n for n, _ in phases]
    print("%-16s %8s" % ("phase", "seconds") + "".join(" %10s" % c[:10] for c in COLS)
          + " %9s" % "rate/s", file=out)
    total = collections.Counter()
    for i, name in enumerate(rows):
        c = rows[name]
        total.update(c)
        t0 = bounds.get(name)
        t1 = bounds[names[i + 1]] if i + 1 < len(names) else t_end
        secs = (t1 - t0) if t0 is not None and t1 else 0
        rate = "%9.1f" % (c["made"] / secs) if secs > 0 else "%9s" % "-"
        print("%-16s %8.1f" % (name, secs) + "".join(" %10d" % c[k] for k in COLS) + " " + rate,
              file=out)
    secs = (t_end - phases[0][1]) if phases and t_end else 0
    rate = "%9.1f" % (total["made"] / secs) if secs > 0 else "%9s" % "-"
    print("%-16s %8.1f" % ("total", secs) + "".join(" %10d" % total[k] for k in COLS) + " "
          + rate, file=out)
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--client", required=True, help="assocload client's lines")
    ap.add_argument("--eve", required=True, help="dicomon's EVE file")
    ap.add_argument("--client-ip", required=True)
    ap.add_argument("--port", type=int, default=11112, help="the server's port")
    ap.add_argument("--phases", help="lines 'NAME START' (Unix seconds), in order")
    ap.add_argument("--end", type=float, help="when the client stopped (Unix seconds)")
    ap.add_argument("--calling", default="SOAKSCU")
    ap.add_argument("--called", default="SOAKSCP")
    ap.add_argument("--timeout", type=float, default=10.0, help="the client's timeout")
    ap.add_argument("--metrics", action="append", default=[], metavar="LABEL=FILE",
                    help="a /metrics scrape (repeatable)")
    ap.add_argument("--blind", help="lines 'NAME START END': windows without dicomon by design")
    ap.add_argument("--json-out", help="write the numbers as JSON here too")
    a = ap.parse_args(argv)
    try:
        assocs = read_client(a.client)
        recs, other, bad = read_eve(a.eve, a.client_ip, a.port)
        phases = read_phases(a.phases) if a.phases else []
        blind = read_blind(a.blind) if a.blind else []
    except (OSError, ValueError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2
    if not phases:
        phases = [("all", min((x["start"] for x in assocs), default=0.0))]
    match(assocs, recs, 1.0, a.timeout + 1.0)
    rows, ends = tally(assocs, phases, a.calling, a.called, blind)
    t_end = a.end or max((x["start"] for x in assocs), default=0.0)
    print("associations (a completed one needs exactly one record; blind_miss: none, started"
          " while no dicomon was attached by design, not asserted):")
    total = print_table(rows, phases, t_end, sys.stdout)
    unmatched = sum(1 for r in recs if not r["used"])
    print(f"records: {len(recs)} of the client's address, {unmatched} matching no association;"
          f" {other} other records (the flood's and the rest); {bad} unparsable lines")
    print("end_reason of matched records: " +
          (", ".join(f"{k}={v}" for k, v in sorted(ends.items(), key=str)) or "none"))
    reasons = collections.Counter(x["reason"] for x in assocs if not x["ok"])
    if reasons:
        print("client failures: " + ", ".join(f"{k}={v}" for k, v in reasons.most_common()))
    scrapes = collections.OrderedDict()
    for spec in a.metrics:
        label, _, path = spec.partition("=")
        try:
            scrapes[label] = read_metrics(path)
        except OSError as e:
            print(f"metrics {label}: {e}")
    if scrapes:
        print("daemon loss counters (non-zero; each scrape is one daemon's view):")
        for label, vals in scrapes.items():
            nz = ", ".join(f"{k}={v:g}" for k, v in vals.items() if v)
            print(f"  {label}: {nz or 'all zero'}")
        print("event loop, longest handler run (reported, not asserted; the goal is under 0.050 s):")
        for spec in a.metrics:
            label, _, path = spec.partition("=")
            try:
                best, handler, slow = read_loop(path)
            except OSError:
                continue
            if handler is None:
                print(f"  {label}: no loop metrics in the scrape")
            else:
                print(f"  {label}: {best:.4f} s ({handler}), {slow:g} runs over 50 ms")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"phases": rows, "total": total, "unmatched_records": unmatched,
                       "end_reasons": ends, "client_failures": reasons, "metrics": scrapes},
                      f, indent=1, default=str)
    failed = total["missing"] or total["duplicated"]
    print(("FAIL" if failed else "PASS") +
          f": {total['made']} associations completed, {total['missing']} missing,"
          f" {total['duplicated']} duplicated, {total['blind_miss']} blind (not asserted)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
