#!/usr/bin/env python3
"""The live daemon's association records against `dicomon replay`'s of the same capture.

  compare_records.py LIVE.jsonl REPLAY.jsonl

Both are `--json` event streams. Their flow_end lines are paired on the
4-tuple (initiator, acceptor) and compared field by field, all fields but
those that legitimately differ: when and where the record was made
(timestamp, iface, hook, duration), the id, the replay's file and packet.
Prints each difference and a summary line; exit 0 only if every
association is in both and nothing differs. Standard library only.
"""
import json
import sys

SKIP = {"timestamp", "iface", "hook", "assoc_id", "pcap_filename", "pcap_cnt", "duration", "event"}


def records(path):
    out = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        if '"event":"flow_end"' not in line:
            continue
        e = json.loads(line)
        out[(e["src"], e["sport"], e["dst"], e["dport"])] = {k: v for k, v in e.items() if k not in SKIP}
    return out


def differences(live, rep):
    bad = []
    for k in sorted(set(live) | set(rep)):
        if k not in live or k not in rep:
            bad.append("%s:%s -> %s:%s: only in %s" % (k + ("live" if k in live else "replay",)))
            continue
        for f in sorted(set(live[k]) | set(rep[k])):
            a, b = live[k].get(f, "<absent>"), rep[k].get(f, "<absent>")
            if a != b:
                bad.append("%s:%s -> %s:%s: %s: live %.120r, replay %.120r" % (k + (f, a, b)))
    return bad


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    live, rep = records(argv[1]), records(argv[2])
    bad = differences(live, rep)
    for b in bad:
        print("FAIL replay vs live:", b)
    print("replay vs live: %d associations, %d fields compared each, %d differences" % (
        len(live), len(next(iter(live.values()), {})), len(bad)))
    return 1 if bad or not live else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
