#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The table of tests/bench/live_bench.sh: medians per configuration, ratios to no-op.

    live_table.py SAMPLES.tsv CPU KERNEL NCPU RUNS

SAMPLES.tsv: configuration, measurement, value (one line per sample).
"""
import collections
import math
import statistics
import sys

COLUMNS = [  # (measurement, heading, format)
    ("iperf_other", "iperf3 5201 Gbit/s", "%.2f"),
    ("iperf_104", "iperf3 104 Gbit/s", "%.2f"),
    ("store_mbs", "storescu MB/s", "%.0f"),
    ("replay_pps", "replay pps", "%.0f"),
    ("cpu_iperf", "softirq ns/pkt iperf3", "%.0f"),
    ("cpu_store", "softirq ns/pkt storescu", "%.0f"),
    ("cpu_replay", "softirq ns/pkt replay", "%.0f"),
    ("xdp_iperf_other", "XDP ns/run iperf3 5201", "%.1f"),
    ("xdp_iperf_104", "XDP ns/run iperf3 104", "%.1f"),
    ("xdp_store", "XDP ns/run storescu", "%.1f"),
    ("xdp_replay", "XDP ns/run replay", "%.1f"),
    ("daemon_store", "daemon CPU % storescu", "%.0f"),
    ("daemon_replay", "daemon CPU % replay", "%.0f"),
]
CONFS = ["none", "noop", "dicomon"]


def main():
    path, cpu, kernel, ncpu, runs = sys.argv[1:6]
    samples = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            conf, name, value = line.rstrip("\n").split("\t")
            samples[(conf, name)].append(float(value))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print("live: kernel %s, %s, %s CPUs, median of %s rounds; (x) = ratio to noop" % (
        kernel, cpu, ncpu, runs))
    print("| configuration | " + " | ".join(h for _, h, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for conf in CONFS:
        cells = []
        for name, _, fmt in COLUMNS:
            v = med.get((conf, name), math.nan)
            base = med.get(("noop", name), math.nan)
            ratio = v / base if base and not math.isnan(base) else math.nan
            if math.isnan(v):
                cells.append("-")  # no program: no XDP run time
                continue
            cells.append((fmt % v) + (" (%.3fx)" % ratio if conf != "noop" else ""))
        print("| %s | %s |" % (conf, " | ".join(cells)))
    for name, heading, fmt in COLUMNS:
        print("live: range of %s: %s" % (heading, "; ".join(
            "%s %s-%s" % (conf, fmt % min(samples[(conf, name)]), fmt % max(samples[(conf, name)]))
            for conf in CONFS if samples.get((conf, name)) and
            not any(math.isnan(x) for x in samples[(conf, name)]))))
    for conf in CONFS:
        loss = samples.get((conf, "replay_loss"))
        if loss:
            print("live: %s: replay frames that did not reach the server leg, per round: %s" % (
                conf, " ".join("%d" % x for x in loss)))
    got = samples.get(("dicomon", "dicom_bytes"))
    if got:
        print("live: dicomon counted DICOM bytes per round: %s" % " ".join("%d" % x for x in got))


if __name__ == "__main__":
    main()
