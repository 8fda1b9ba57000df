#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Rule 11, DICOMweb over plain HTTP, against a real Orthanc with its DICOMweb
# plugin (Debian's orthanc + orthanc-dicomweb) on :8042 in a namespace:
#   - curl QIDO-RS /dicom-web/studies?PatientName=PHIVALUE  -> 9100110 and
#     9100111 with phi_keys [PatientName], src = the client, app_proto http
#   - curl /dicom-web/studies (no query)                    -> 9100110 only
#   - curl /app/explorer.html (not DICOMweb)                -> nothing
# The query value and the UIDs never reach the feed, the event lines or the logs.
#
#   sudo tests/e2e/test_dicomweb.sh [DICOMON]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
ORTHANC=${ORTHANC:-/usr/sbin/Orthanc}
DICOMWEB_PLUGIN=${DICOMWEB_PLUGIN:-/usr/share/orthanc/plugins/libOrthancDicomWeb.so}
[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss python3 curl timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found: $DICOMON"
[[ -x $ORTHANC ]] || e2e_die "Orthanc not found: $ORTHANC (apt-get install orthanc orthanc-dicomweb)"
[[ -f $DICOMWEB_PLUGIN ]] || e2e_die "DICOMweb plugin not found: $DICOMWEB_PLUGIN (orthanc-dicomweb)"

PFX="dmweb-$$"
NS_CLI=$PFX-cli NS_SRV=$PFX-srv
CLI_IP=10.221.0.1 SRV_IP=10.221.0.2
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/db"

e2e_pair "$NS_CLI" "$NS_SRV" "$CLI_IP" "$SRV_IP"
ip -n "$NS_SRV" link set lo up

cat >"$W/orthanc.json" <<JSON
{
  "Name": "dicomon-e2e",
  "StorageDirectory": "$W/db",
  "IndexDirectory": "$W/db",
  "HttpPort": 8042,
  "DicomPort": 14242,
  "RemoteAccessAllowed": true,
  "AuthenticationEnabled": false,
  "Plugins": ["$DICOMWEB_PLUGIN"],
  "DicomWeb": {"Enable": true, "Root": "/dicom-web/"}
}
JSON
e2e_bg orthanc "$W/logs/orthanc.out" "$W/logs/orthanc.err" \
    ip netns exec "$NS_SRV" "$ORTHANC" "$W/orthanc.json"
e2e_wait_for 20 "Orthanc on :8042" e2e_port_listening "$NS_SRV" 8042 ||
    e2e_die "Orthanc did not start: $(tail -n 5 "$W/logs/orthanc.err")"

EVE=$W/eve.json
e2e_dicomon_start dicomon "$NS_SRV" "$W/events.jsonl" "$W/logs/dicomon.err" \
    "$DICOMON" run -i eth0 --json -o "feed.file=$EVE" -o "table.status_socket=$W/status.sock"
PID_DICOMON=$E2E_DICOMON_PID

PHI=PHIVALUE SUID=1.2.826.0.1.3680043.99.424242
get() { # NAME PATH : curl from the client namespace, the status code in logs/NAME.code
    timeout 30 ip netns exec "$NS_CLI" curl -s -o "$W/logs/$1.body" -w '%{http_code}' \
        "http://$SRV_IP:8042$2" >"$W/logs/$1.code" 2>"$W/logs/$1.err" || true
}
e2e_log "QIDO-RS with a patient name in the URL"
get qido-phi "/dicom-web/studies?PatientName=$PHI"
e2e_log "QIDO-RS without a query, WADO-RS with UIDs in the path"
get qido "/dicom-web/studies"
get wado "/dicom-web/studies/$SUID/series"
e2e_log "not DICOMweb"
get other "/app/explorer.html"
sleep 0.5
e2e_stop "$PID_DICOMON" INT 10 || e2e_die "dicomon did not exit cleanly: $(tail -n 5 "$W/logs/dicomon.err")"

phi_hits=$(grep -l -a -e "$PHI" -e "$SUID" "$EVE" "$W/events.jsonl" "$W/logs/dicomon.err" 2>/dev/null || true)
python3 - "$EVE" "$CLI_IP" "$SRV_IP" "$phi_hits" "$(cat "$W/logs/qido-phi.code")" <<'PY'
import json, sys
eve, cli, srv, phi_hits, code = sys.argv[1:6]
passed = failed = 0
def check(ok, name, detail=""):
    global passed, failed
    ok = bool(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    passed += ok
    failed += not ok
check(code == "200", "Orthanc answered the QIDO-RS request", code)
recs = [json.loads(l) for l in open(eve)]
alerts = [r for r in recs if r.get("event_type") == "alert"]
by = lambda sid: [a for a in alerts if a["alert"]["signature_id"] == sid]
check(len(by(9100111)) == 1, "one 9100111 (PHI in URL)", str(len(by(9100111))))
check(len(by(9100110)) == 3, "9100110 for each DICOMweb request (3)", str(len(by(9100110))))
if by(9100111):
    a = by(9100111)[0]
    d = a["dicom"]
    check(d.get("phi_keys") == ["PatientName"], "phi_keys [PatientName]", str(d))
    check(d.get("method") == "GET" and d.get("resource") == "studies", "method, resource", str(d))
    check(d.get("query_keys_count") == 1, "query_keys_count 1", str(d))
    check(a["alert"]["severity"] == 1, "severity 1", str(a["alert"]))
    check(a.get("src_ip") == cli and a.get("dest_ip") == srv and a.get("dest_port") == 8042,
          "src is the client, dest the server :8042", json.dumps(a))
    check(a.get("app_proto") == "http" and a.get("proto") == "TCP", "app_proto http", json.dumps(a))
    check(a.get("in_iface") == "eth0", "in_iface", json.dumps(a))
res = sorted(a["dicom"]["resource"] for a in by(9100110))
check(res == ["series", "studies", "studies"], "resources studies, studies, series", str(res))
check(not phi_hits, "no query value or UID in the feed, event lines or logs", phi_hits)
print(f"dicomweb: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
e2e_log "test_dicomweb: OK"
