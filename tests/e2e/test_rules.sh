#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Detection rules against real tools, checked in the EVE feed (feed.file):
#   - nmap dicom-ping three times against storescp      -> 9100061 (no command, no release)
#   - echoscu with five different called AE titles,
#     all accepted by storescp                           -> 9100070 (SCP accepts any AE)
#   - nmap dicom-brute (12 guesses) against dcmqrscp,
#     which rejects unknown called AE titles (1/1/7)     -> 9100050 and 9100051 (enumeration)
#   - every cleartext association                        -> 9100010 (informational inside
#                                                           the imaging networks)
# Every line must parse, alerts must join their association record by
# flow_id, and a benign echo inside the imaging network raises nothing above
# informational.
#
#   sudo tests/e2e/test_rules.sh [DICOMON]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss python3 curl nmap openssl echoscu storescu findscu movescu storescp dcmqrscp dcmodify img2dcm timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found: $DICOMON"

PFX="dmrules-$$"
NS_CLI=$PFX-cli NS_SRV=$PFX-srv
CLI_IP=10.219.0.1 SRV_IP=10.219.0.2
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/in"

e2e_pair "$NS_CLI" "$NS_SRV" "$CLI_IP" "$SRV_IP"

e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_SRV" storescp --aetitle PACS_SCP -od "$W/in" 11112
e2e_make_dcmqrscp_cfg "$W/dcmqrscp.cfg" "$W/db" 104 PACS_QR
e2e_bg dcmqrscp "$W/logs/dcmqrscp.out" "$W/logs/dcmqrscp.err" \
    ip netns exec "$NS_SRV" dcmqrscp -c "$W/dcmqrscp.cfg" 104
e2e_make_pki "$W"
e2e_bg storescp-tls "$W/logs/storescp-tls.out" "$W/logs/storescp-tls.err" \
    ip netns exec "$NS_SRV" storescp --aetitle PACS_SCP -od "$W/in" \
    +tls "$W/server.key" "$W/server.crt" -pw +cf "$W/ca.crt" 2762
for p in 11112 104 2762; do
    e2e_wait_for 10 "SCP on :$p" e2e_port_listening "$NS_SRV" "$p" || e2e_die "SCP :$p did not start"
done

EVE=$W/eve.json
e2e_dicomon_start dicomon "$NS_SRV" "$W/events.jsonl" "$W/logs/dicomon.err" \
    "$DICOMON" run -i eth0 --tc-egress --json -p 104,11112,2762 --learn "$W/learned.yaml" \
    -o "feed.file=$EVE" -o "table.status_socket=$W/status.sock" -o "evidence.dir=$W/evidence"
PID_DICOMON=$E2E_DICOMON_PID

run() { # NAME CMD... : in the client namespace, failures tolerated (rejects are expected)
    local name=$1
    shift
    timeout 60 ip netns exec "$NS_CLI" "$@" >"$W/logs/$name.out" 2>&1 || true
}
e2e_log "benign: echoscu MODALITY1 -> PACS_SCP"
run benign echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 11112
for i in 1 2 3; do
    e2e_log "nmap dicom-ping ($i)"
    run "ping$i" nmap -Pn -n -p 11112 --script dicom-ping "$SRV_IP"
done
for ae in ALPHA BRAVO CHARLIE DELTA ECHO; do
    e2e_log "echoscu -aec $ae (storescp accepts any called AE)"
    run "anyae-$ae" echoscu -aet MODALITY1 -aec "$ae" "$SRV_IP" 11112
done
# PHI planted in the traffic: a patient name and a patient id in the data set
# of a C-STORE, a username and passcode (user identity, rule 2), a query value
# in a C-FIND identifier. None of them may appear in the feed, the native
# event lines, the logs or the status output.
PHI_NAME=DOE^PHIMARKER^NAME PHI_ID=PHIMARKERID42 PHI_USER=phimarkeruser PHI_PASS=PhiMarkerPass99
PHI_QUERY=PHIMARKERQUERY
e2e_make_dicom "$W"
dcmodify -nb -m "PatientName=$PHI_NAME" -m "PatientID=$PHI_ID" "$W/small1.dcm" >/dev/null
e2e_log "storescu with user identity and a planted patient name"
run phi-store storescu -aet MODALITY1 -aec PACS_SCP -usr "$PHI_USER" -pwd "$PHI_PASS" \
    "$SRV_IP" 11112 "$W/small1.dcm"
e2e_log "findscu with a planted query value"
run phi-find findscu -S -aet MODALITY1 -aec PACS_QR -k QueryRetrieveLevel=STUDY \
    -k "PatientName=$PHI_QUERY" "$SRV_IP" 104
e2e_log "hostile calling AE title: a quote, a backslash and a control byte"
run hostile echoscu -aet $'Q"T\\B\x01' -aec PACS_SCP "$SRV_IP" 11112
e2e_log "TLS policy: cleartext on the TLS port 2762, then a TLS 1.1 ClientHello there"
run clear2762 echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 2762
run tls11 timeout 10 openssl s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -connect "$SRV_IP:2762" </dev/null
printf '%s\n' admin pacs dicom orthanc archive store server scp test guest radiology imaging \
    >"$W/passdb.txt"
e2e_log "nmap dicom-brute (12 guesses) against dcmqrscp"
run brute nmap -Pn -n -p 104 --script dicom-brute \
    --script-args "passdb=$W/passdb.txt,brute.threads=1" "$SRV_IP"
sleep 0.5
# logrotate: move the file away, SIGHUP, and the daemon writes a new one.
mv "$EVE" "$EVE.1"
kill -HUP "$PID_DICOMON"
sleep 0.5
run rotated echoscu -aet ROTATED -aec PACS_SCP "$SRV_IP" 11112
sleep 0.5
e2e_stop "$PID_DICOMON" INT 10 || e2e_die "dicomon did not exit cleanly: $(tail -n 5 "$W/logs/dicomon.err")"

# Rule 4 with the allow-list the first run learned: a known pair is quiet, a
# calling AE title never seen is reported.
EVE2=$W/eve2.json
e2e_dicomon_start dicomon2 "$NS_SRV" "$W/events2.jsonl" "$W/logs/dicomon2.err" \
    "$DICOMON" run -i eth0 --tc-egress --json -o "policy.ae_allowlist=$W/learned.yaml" \
    -o "feed.file=$EVE2" -o "table.status_socket=$W/status2.sock"
PID_DICOMON=$E2E_DICOMON_PID
run known echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 11112
run unknown echoscu -aet INTRUDER -aec PACS_SCP "$SRV_IP" 11112
e2e_log "movescu to a destination the allow-list does not know"
run move movescu -S -aet MODALITY1 -aec PACS_QR -aem NOWHERE -k QueryRetrieveLevel=STUDY \
    -k StudyInstanceUID=1.2.3.4 "$SRV_IP" 104
sleep 0.5
# /metrics (the default listener, in the namespace's loopback): AE pairs are
# labelled only with allow-listed titles.
ip netns exec "$NS_SRV" curl -sS --max-time 5 -o "$W/metrics2.txt" http://127.0.0.1:9479/metrics ||
    e2e_log "scrape of /metrics failed"
e2e_stop "$PID_DICOMON" INT 10 || e2e_die "dicomon (allow-list) did not exit cleanly"

"$DICOMON" status --json --socket "$W/none.sock" --pin-root "$W/none" >"$W/status.json" 2>&1 || true
PHI_FILES=("$EVE" "$EVE.1" "$EVE2" "$W/events.jsonl" "$W/events2.jsonl" "$W/logs/dicomon.err"
    "$W/logs/dicomon2.err" "$W/learned.yaml" "$W/status.json" "$W/metrics2.txt")
PHI_FILES+=("$W"/evidence/*.pcap)
phi_hits=$(grep -l -a -e "$PHI_NAME" -e "PHIMARKER" -e "$PHI_ID" -e "$PHI_USER" -e "$PHI_PASS" \
    -e "$PHI_QUERY" "${PHI_FILES[@]}" 2>/dev/null || true)
# The evidence pcaps as Wireshark sees them (DICOM on the ports the test uses).
for f in "$W"/evidence/*.pcap; do
    tshark -r "$f" -d tcp.port==104,dicom -d tcp.port==11112,dicom -d tcp.port==2762,dicom \
        -T fields -e dicom.assoc.item.type \
        -e _ws.col.Info >"$f.txt" 2>/dev/null || echo "tshark failed" >>"$f.txt"
done

python3 - "$EVE" "$W/learned.yaml" "$EVE2" "$phi_hits" "$W/events.jsonl" "$W/metrics2.txt" <<'PY'
import json, re, sys
passed = failed = 0
def check(ok, name, detail=""):
    global passed, failed
    ok = bool(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    passed += ok
    failed += not ok
rotated = open(sys.argv[1], "rb").read()
lines = (open(sys.argv[1] + ".1", "rb").read() + rotated).split(b"\n")
check(b'"calling_ae":"ROTATED"' in rotated and b'"calling_ae":"MODALITY1"' not in rotated,
      "after a rename and SIGHUP the feed writes a new file (logrotate)", rotated[:200].decode("utf-8", "replace"))
recs, bad = [], 0
for raw in lines:
    if not raw:
        continue
    try:
        recs.append(json.loads(raw.decode("utf-8", "strict")))
    except ValueError:
        bad += 1
check(bad == 0 and recs, "every EVE line is strict UTF-8 JSON", "%d bad of %d" % (bad, len(recs) + bad))
need = {"timestamp", "flow_id", "in_iface", "src_ip", "src_port", "dest_ip", "dest_port",
        "proto", "app_proto", "event_type"}
missing = [r for r in recs if r.get("flow_id") is not None and not need <= set(r)]
check(not missing, "EVE common fields on every record with a flow", json.dumps(missing[:1])[:300])
dicom = [r for r in recs if r.get("event_type") == "dicom"]
alerts = [r for r in recs if r.get("event_type") == "alert"]
check(len(dicom) >= 3 + 5 + 1, "an association record per association", str(len(dicom)))
sids = {}
for a in alerts:
    sids.setdefault(a["alert"]["signature_id"], []).append(a)
print("alerts by sid:", {k: len(v) for k, v in sorted(sids.items())})
for sid, what in ((9100061, "dicom-ping: accepted, no command, no release"),
                  (9100070, "an SCP accepting any called AE title"),
                  (9100050, "AE title enumeration by rejects"),
                  (9100051, "AE title enumeration by distinct called AEs"),
                  (9100010, "cleartext association"),
                  (9100101, "TLS below 1.2 offered"),
                  (9100100, "cleartext on a TLS-only port"),
                  (9100102, "TLS on a port that also carried cleartext"),
                  (9100030, "an invalid AE title")):
    check(sid in sids, "rule %d fires: %s" % (sid, what), str(sorted(sids)))
flows = {r.get("flow_id") for r in dicom}
joined = [a for a in alerts if a.get("flow_id") is not None]
check(joined and all(a["flow_id"] in flows for a in joined),
      "alerts join their association records by flow_id",
      str([a["flow_id"] for a in joined if a["flow_id"] not in flows][:5]))
benign = [r for r in dicom if r.get("dicom", {}).get("calling_ae") == "MODALITY1"
          and r.get("dicom", {}).get("called_ae") == "PACS_SCP"
          and "C-ECHO-RQ" in r.get("dicom", {}).get("commands", {})]
bflows = {r["flow_id"] for r in benign}
loud = [a for a in alerts if a.get("flow_id") in bflows and a["alert"]["severity"] < 3]
check(benign and not loud, "the benign echo raises nothing above informational",
      json.dumps(loud)[:300])
enum = [a for a in alerts if a["alert"]["signature_id"] in (9100050, 9100051)]
check(enum and all(a["dicom"].get("transport") == "cleartext" and a["dicom"].get("calling_ae")
                   for a in enum), "alerts explain themselves: AE titles and transport",
      json.dumps(enum[:1])[:300])
types = {}
for r in recs:
    for k, v in r.items():
        types.setdefault(k, set()).add(type(v).__name__)
unstable = {k: v for k, v in types.items() if len(v - {"NoneType"}) > 1}
check(not unstable, "field types are stable across records", str(unstable))
check(not sys.argv[4], "no planted patient name, id, username, passcode or query value "
      "in the feed, the event lines, the logs, the status or the evidence pcaps", sys.argv[4])
# Evidence pcaps (live daemon, evidence.dir): one per alerted association, as named.
import glob, os
evd = os.path.join(os.path.dirname(sys.argv[1]), "evidence")
named = {a["dicom"]["evidence"] for a in alerts if a["dicom"].get("evidence")}
files = set(glob.glob(evd + "/*.pcap"))
check(len(files) >= 5 and named and named <= files,
      "the daemon wrote evidence pcaps of alerted associations (%d), named in the alerts" % len(files),
      "%s vs %s" % (sorted(named)[:3], sorted(files)[:3]))
uid_store = [r for r in dicom if (r["dicom"].get("user_identity") or {}).get("type") == "username-passcode"]
sf = uid_store[0].get("flow_id") if uid_store else None
sp = "%s/dicomon-%s.pcap" % (evd, sf)
st = open(sp + ".txt").read() if os.path.exists(sp + ".txt") else ""
check("A-ASSOCIATE request" in st and "C-STORE-RQ" in st and "tshark failed" not in st,
      "tshark dissects the evidence of the store with the planted PHI (set-up and C-STORE-RQ)", st[:400])
# The planted values really crossed the wire (else the check above proves nothing).
store = [r for r in dicom if (r["dicom"].get("user_identity") or {}).get("type") == "username-passcode"]
check(store and store[0]["dicom"].get("commands", {}).get("C-STORE-RQ") == 1,
      "the store with user identity and the planted data set was seen", json.dumps(store)[:300])
find = [r for r in dicom if "C-FIND-RQ" in r["dicom"].get("commands", {})]
check(len(find) == 1, "the C-FIND with the planted query was seen", str(len(find)))
cred = [a for a in alerts if a["alert"]["signature_id"] == 9100020]
check(cred and all("phimarker" not in json.dumps(a).lower() for a in cred),
      "rule 9100020 reports the cleartext user identity by type only",
      json.dumps(cred[:1])[:300])
learned = open(sys.argv[2]).read()
check("MODALITY1" in learned and "PACS_SCP" in learned and "10.219.0.1" in learned,
      "--learn wrote the AE titles with their addresses", learned[:300])
recs2 = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
a4 = [r for r in recs2 if r.get("event_type") == "alert" and r["alert"]["signature_id"] == 9100040]
check(len(a4) == 1 and a4[0]["dicom"].get("calling_ae") == "INTRUDER",
      "with the learned allow-list, only the unknown calling AE title is reported",
      json.dumps(a4)[:400])
stats = [json.loads(l) for l in open(sys.argv[5]) if '"event":"stats"' in l]
fs = stats[-1].get("userspace", {}).get("feed", {}) if stats else {}
check(fs.get("alerts_suppressed", 0) >= 1 and fs.get("alerts") == len(alerts)
      and fs.get("file_lines") == len(recs),
      "the stats line counts the feed: lines written, alerts, alerts held back", json.dumps(fs))
mv = [r for r in recs2 if r.get("event_type") == "alert" and r["alert"]["signature_id"] == 9100090]
check(len(mv) == 1 and "NOWHERE" in json.dumps(mv[0]["dicom"]),
      "a C-MOVE to a destination not in the allow-list is reported", json.dumps(mv)[:400])
try:
    scrape = open(sys.argv[6]).read()
except OSError:
    scrape = ""
def series(name):
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^%s\{(.*)\} (\S+)$" % re.escape(name), scrape, re.M)}
pairs = series("dicomon_ae_pair_associations_total")
check(pairs.get('calling_ae="MODALITY1",called_ae="PACS_SCP"', 0) >= 1
      and pairs.get('calling_ae="other",called_ae="PACS_SCP"', 0) == 1
      and "INTRUDER" not in scrape,
      "/metrics: AE pairs name allow-listed titles only, the unknown one is 'other'", json.dumps(pairs))
raised = series("dicomon_alerts_total")
m = re.search(r"^dicomon_alerts_suppressed_total (\S+)$", scrape, re.M)
supp = float(m.group(1)) if m else -1
eve2_alerts = [r for r in recs2 if r.get("event_type") == "alert"]
check(sum(v for k, v in raised.items() if 'signature_id="9100040"' in k) == 1,
      "/metrics: alerts by signature count the allow-list alert", json.dumps(raised))
check(sum(raised.values()) == len(eve2_alerts) + supp,
      "/metrics: alerts raised = alerts in the feed + alerts held back",
      "%s raised, %d in EVE, %s suppressed" % (sum(raised.values()), len(eve2_alerts), supp))
print("rules: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
