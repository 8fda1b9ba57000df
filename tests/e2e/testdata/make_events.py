#!/usr/bin/env python3
"""Regenerate events-good.jsonl / events-bad.jsonl from manifest.tsv and
tshark.tsv in this directory (run after replacing those two with the files
from a `test_dcmtk.sh --traffic-only --keep` scratch dir).

events-good.jsonl is what a correct dicomon would print for that capture.
events-bad.jsonl is the same stream with one deliberate error per
association (see BAD below) plus stream-level errors; the checker must
report every one of them.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import check_events as ce  # noqa: E402

PORTS = {11112, 2762}


def good_events():
    conns = ce.build_conns(ce.read_tsv(os.path.join(HERE, "tshark.tsv")), PORTS)
    man = ce.read_manifest(os.path.join(HERE, "manifest.tsv"))
    pairs, _ = ce.pair(man, conns, PORTS)
    ev = [{"event": "ready", "version": "testdata", "ifaces": ["gw-mod", "gw-pacs"]}]
    npdu = 0
    for i, (row, c) in enumerate(pairs, 1):
        aid = "%016x" % (0xD1C0000000000000 + i)
        base = {"assoc_id": aid, "src": c.client[0], "sport": c.client[1],
                "dst": c.server[0], "dport": c.server[1]}
        fe = {"event": "flow_end", "assoc_id": aid, "reason": "rst" if c.rst else "fin",
              "state": row["state"], "transport": row["transport"], "midstream": False,
              "src": c.client[0], "sport": c.client[1], "dst": c.server[0], "dport": c.server[1]}
        if row["transport"] == "cleartext":
            ev.append(dict(event="pdu", pdu="A-ASSOCIATE-RQ", calling_ae=row["calling_ae"],
                           called_ae=row["called_ae"], **base))
            if c.pdus["orig"]["P-DATA-TF"]:
                ev.append(dict(event="dimse", command="C-STORE-RQ" if "store" in row["name"] else "C-ECHO-RQ",
                               **base))
            fe.update(calling_ae=row["calling_ae"], called_ae=row["called_ae"],
                      tls_offered=None, tls_selected=None,
                      pdus={d: dict(c.pdus[d]) for d in ("orig", "reply")})
            npdu += sum(c.pdus["orig"].values()) + sum(c.pdus["reply"].values())
        else:
            ev.append(dict(event="tls", hello="client", version=c.tls_offered, **base))
            ev.append(dict(event="tls", hello="server", version=c.tls_selected, **base))
            fe.update(calling_ae=None, called_ae=None, tls_offered=c.tls_offered,
                      tls_selected=c.tls_selected, pdus={"orig": {}, "reply": {}})
        fe["bytes"] = {"orig": c.bytes("orig"), "reply": c.bytes("reply")}
        ev.append(fe)
    ev.append({"event": "stats", "flows": len(pairs), "pdus": npdu})
    return ev


def bad(e):
    """One deliberate error per association; returns None to drop the event."""
    n = e["_name"]
    if n == "echo":          # one P-DATA-TF too many, and midstream set
        e["pdus"]["orig"]["P-DATA-TF"] += 1
        e["midstream"] = True
    elif n == "store":       # one MTU segment of payload missed
        e["bytes"]["orig"] -= 1448
    elif n == "tls-echo":    # no flow_end at all
        return None
    elif n == "tls-store":   # AE title "visible" on TLS, wrong selected version
        e["calling_ae"] = "MODALITY1"
        e["tls_selected"] = "TLS1.2"
    elif n == "abort":       # release instead of abort
        e["state"] = "released"
        e["pdus"]["orig"].pop("A-ABORT")
        e["pdus"]["orig"]["A-RELEASE-RQ"] = 1
    elif n == "reject":      # wrong state and PDU type, AE swapped
        e["state"] = "aborted"
        e["pdus"]["reply"] = {"A-ABORT": 1}
        e["called_ae"] = "PACS_SCP"
    elif n == "tls-downgrade":   # reports the offered version as selected
        e["tls_selected"] = e["tls_offered"]
    elif n == "tls-legacy":      # transport misclassified
        e["transport"] = "cleartext"
    return e


def main():
    ev = good_events()
    man = ce.read_manifest(os.path.join(HERE, "manifest.tsv"))
    with open(os.path.join(HERE, "events-good.jsonl"), "w") as f:
        for e in ev:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    names = iter(r["name"] for r in man)
    out = []
    for e in ev:
        if e["event"] == "stats":
            continue  # stream error: no final stats line
        if e["event"] == "flow_end":
            e = bad(dict(e, _name=next(names)))
            if e is None:
                continue
            del e["_name"]
        out.append(e)
    # stream error: a flow_end for a connection the test never made
    out.append({"event": "flow_end", "assoc_id": "ffff", "reason": "evict", "state": "unknown",
                "transport": "cleartext", "midstream": True, "src": "10.213.0.2", "sport": 40000,
                "dst": "10.213.0.6", "dport": 11112, "pdus": {}, "bytes": {"orig": 0, "reply": 0}})
    # duplicate flow_end for echo
    out.append(dict([x for x in out if x["event"] == "flow_end"][0], assoc_id="dup"))
    with open(os.path.join(HERE, "events-bad.jsonl"), "w") as f:
        for e in out:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
        f.write("this line is not JSON\n")


if __name__ == "__main__":
    main()
