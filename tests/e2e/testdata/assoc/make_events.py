#!/usr/bin/env python3
"""Regenerate events-good.jsonl / events-bad.jsonl from the recorded run in
this directory (manifest.tsv, tshark-assoc.jsonl; replace those with the
files of a `test_assoc.sh --traffic-only --keep` scratch dir, then run this).

events-good.jsonl is what a correct dicomon prints for that capture: every
flow_end field of the association-record contract, in dicomon's vocabulary,
plus fields the checker does not know (it must ignore them).
events-bad.jsonl is the same stream with deliberate errors per association
(see BAD below) and stream-level errors; the checker must name every one.
"""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
import check_assoc as ca  # noqa: E402


def pairs():
    man = ca.read_manifest(os.path.join(HERE, "manifest.tsv"))
    conns = ca.build_conns(ca.read_jsonl(os.path.join(HERE, "tshark-assoc.jsonl")),
                           {r["dport"] for r in man})
    p, problems = ca.pair(man, conns)
    assert not problems, problems
    return p


def flow_end(i, row, c):
    t = c.ts
    aid = str(1882516027867136 + i)
    ab = t.abort_info()
    if ab is not None:
        ab = dict(ab, reason_name=ab["reason_name"] or "service-user")
    imp = t.implementation()
    return {
        "event": "flow_end", "timestamp": "2026-11-22T00:26:27.%06d+00:00" % i,
        "iface": "gw-pacs", "hook": "xdp", "assoc_id": aid,
        "src": c.client[0], "sport": c.client[1], "dst": c.server[0], "dport": c.server[1],
        "vlan": [], "dir": "orig", "reason": "fin", "state": t.outcome(),
        "transport": "cleartext", "midstream": False, "tls_offered": None, "tls_selected": None,
        "pdus": {d: dict(+t.pdus[d]) for d in ("orig", "reply")},
        "bytes": {"orig": 1000 + i, "reply": 500 + i},
        "retransmits": 0, "gaps": 0, "resyncs": 0, "duration": 0.01 * i,
        "calling_ae": t.rq["calling"], "called_ae": t.rq["called"],
        "outcome": t.outcome(), "reject": t.reject(), "abort": ab,
        "commands": dict(+t.commands), "statuses": dict(+t.statuses),
        "move_destinations": list(t.move_destinations),
        "move_originators": list(t.move_originators),
        # reply side of a rejected association: both members null
        "implementation": imp,
        "max_pdu": t.max_pdu(),
        "fingerprint": {"name": "DCMTK", "version": "3.6.7", "confidence": "high"},
        "presentation_contexts": [dict(pc, abstract_syntax_name="(name)") for pc in t.contexts()],
        "violations": [], "violations_total": 0,
        "future_field": {"the checker": "ignores this"},
    }


def good_events():
    ev = [{"event": "ready", "interfaces": [{"name": "gw-mod", "xdp": "native"},
                                            {"name": "gw-pacs", "xdp": "native"}]}]
    for i, (row, c) in enumerate(pairs(), 1):
        fe = flow_end(i, row, c)
        base = {k: fe[k] for k in ("timestamp", "iface", "hook", "assoc_id", "src", "sport", "dst", "dport")}
        ev.append(dict(base, event="pdu", dir="orig", pdu="A-ASSOCIATE-RQ",
                       calling_ae=fe["calling_ae"], called_ae=fe["called_ae"]))
        ev.append(fe)
    ev.append({"event": "stats", "total": {"associations": {"ended": len(ev) // 2}}})
    return ev


def bad(name, e):
    """Deliberate errors for one association's flow_end (modified in place).
    Returns a list of extra events to add (e.g. a duplicate)."""
    pcs = e["presentation_contexts"]
    if name == "echo":
        e["implementation"]["reply"]["version"] = "OFFIS_DCMTK_366"
        e["fingerprint"] = {"name": "pynetdicom"}
    elif name == "store":
        pcs[1]["transfer_syntaxes"] = pcs[1]["transfer_syntaxes"][:1]
        e["commands"]["C-STORE-RQ"] = 2
    elif name == "find":
        e["statuses"]["pending"] = 4
        e["max_pdu"]["reply"] = 0
    elif name == "move":
        e["move_destinations"] = []
        e["outcome"] = "accepted"
    elif name == "move-sub":
        e["move_originators"] = ["MOVEDEST"]
        del pcs[100:]  # as if the RQ's last continuation pieces were lost
    elif name == "manypc":
        last = pcs[-1]  # the UUID abstract syntax nobody supports
        last["result"] = "acceptance"
        last["accepted_transfer_syntax"] = last["transfer_syntaxes"][0]
        pcs[10]["abstract_syntax"] = "1.2.840.10008.5.1.4.1.1.2"
        pcs[20], pcs[22] = pcs[22], pcs[20]  # RQ order lost
    elif name == "reject":
        e["reject"] = dict(e["reject"], reason=3, reason_name="calling-AE-title-not-recognized")
        e["implementation"]["reply"] = {"class_uid": "1.2.3", "version": None}
    elif name == "abort":
        e["abort"] = None
        e["outcome"] = "released"
        return [copy.deepcopy(e)]  # and a duplicate flow_end
    return []


def bad_events():
    ev = good_events()
    names = {c.client[1]: row["name"] for row, c in pairs()}
    out = []
    for e in ev:
        out.append(e)
        if e.get("event") == "flow_end":
            out += bad(names[e["sport"]], e)
    stray = dict(copy.deepcopy(out[2]), sport=1, assoc_id="1")
    return out[:-1] + [stray], "this line is not JSON\n"  # and no final stats


def write(path, events, tail=""):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
        f.write(tail)


if __name__ == "__main__":
    write(os.path.join(HERE, "events-good.jsonl"), good_events())
    ev, tail = bad_events()
    write(os.path.join(HERE, "events-bad.jsonl"), ev, tail)
