#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A real scanner against a real SCP: nmap's dicom-ping script (Debian's nmap)
# against DCMTK's storescp, dicomon on the server's interface (XDP ingress,
# TC egress). The association record must name nmap as a scanner from its
# traits (claims DCMTK 3.6.2, 0x00 where DCMTK sends 0xFF, one Verification
# context, no DIMSE command, no release), while a real DCMTK echoscu on the
# same link stays a toolkit.
#
#   sudo tests/e2e/test_scanner.sh [DICOMON]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss python3 nmap echoscu storescp timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found: $DICOMON"

PFX="dmscan-$$"
NS_CLI=$PFX-cli NS_SRV=$PFX-srv
CLI_IP=10.218.0.1 SRV_IP=10.218.0.2
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/in"

e2e_pair "$NS_CLI" "$NS_SRV" "$CLI_IP" "$SRV_IP"

e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_SRV" storescp --aetitle PACS_SCP -od "$W/in" 11112
e2e_wait_for 10 "storescp on :11112" e2e_port_listening "$NS_SRV" 11112 ||
    e2e_die "storescp did not start: $(cat "$W/logs/storescp.err")"

EVENTS=$W/events.jsonl
e2e_dicomon_start dicomon "$NS_SRV" "$EVENTS" "$W/logs/dicomon.err" \
    "$DICOMON" run -i eth0 --tc-egress --json -o "table.status_socket=$W/status.sock"
PID_DICOMON=$E2E_DICOMON_PID

e2e_log "nmap --script dicom-ping against storescp"
timeout 60 ip netns exec "$NS_CLI" nmap -Pn -n -p 11112 --script dicom-ping "$SRV_IP" \
    >"$W/logs/nmap.out" 2>&1 || e2e_die "nmap failed: $(cat "$W/logs/nmap.out")"
e2e_log "echoscu (DCMTK) for contrast"
timeout 30 ip netns exec "$NS_CLI" echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 11112 \
    >"$W/logs/echoscu.out" 2>&1 || e2e_die "echoscu failed: $(cat "$W/logs/echoscu.out")"
sleep 0.5
e2e_stop "$PID_DICOMON" INT 10 || e2e_die "dicomon did not exit cleanly: $(tail -n 5 "$W/logs/dicomon.err")"

python3 - "$EVENTS" "$W/logs/nmap.out" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
nmap_out = open(sys.argv[2]).read()
passed = failed = 0
def check(ok, name, detail=""):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    passed += ok
    failed += not ok
ends = [e for e in events if e.get("event") == "flow_end"]
# nmap's scan itself (SYN probe, service probes) opens other connections: only
# associations count, and the DICOM one is the one with an A-ASSOCIATE-RQ.
assoc = [e for e in ends if e.get("pdus", {}).get("orig", {}).get("A-ASSOCIATE-RQ")]
check("dicom-ping" in nmap_out, "nmap ran dicom-ping", nmap_out[-300:])
check(len(assoc) == 2, "two associations seen (nmap, echoscu)", str(len(assoc)))
scan = [e for e in assoc if e.get("calling_ae") == "ECHOSCU" and e.get("called_ae") == "ANY-SCP"]
echo = [e for e in assoc if e.get("calling_ae") == "MODALITY1"]
if scan:
    s = scan[0]
    fp = s.get("fingerprint") or {}
    check(fp.get("kind") == "scanner" and str(fp.get("name", "")).startswith("nmap"),
          "nmap is fingerprinted as a scanner", json.dumps(fp))
    check((fp.get("confidence") or 0) >= 85, "with high confidence", json.dumps(fp))
    check(not s.get("commands") and s.get("outcome") != "released",
          "no DIMSE command and no release", json.dumps({k: s.get(k) for k in ("commands", "outcome")}))
    pcs = s.get("presentation_contexts") or []
    check(len(pcs) == 1 and pcs[0].get("abstract_syntax") == "1.2.840.10008.1.1",
          "one Verification context", json.dumps(pcs))
else:
    check(False, "the nmap association (ECHOSCU -> ANY-SCP)", json.dumps(assoc)[:500])
if echo:
    fp = echo[0].get("fingerprint") or {}
    check(fp.get("kind") == "toolkit" and str(fp.get("name", "")).startswith("DCMTK"),
          "echoscu stays a DCMTK toolkit", json.dumps(fp))
else:
    check(False, "the echoscu association", json.dumps(assoc)[:500])
print("scanner: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
