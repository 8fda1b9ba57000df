#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A real Prometheus (Debian's package) scrapes dicomon while DCMTK traffic flows,
# all inside a client/server namespace pair:
#   - the counters Prometheus stored match the traffic the test made
#     (associations cleartext and TLS, by outcome, PDUs by type, rejects, DIMSE);
#   - every query of every panel of dashboards/dicomon-grafana.json runs through
#     Prometheus's HTTP API without an error, and the main panels return series;
#   - the alerting rules load (and the boundary alert stays quiet here);
#   - 50 concurrent clients (wrk, 3 s) hammer /metrics while an association runs:
#     every request answered, the association counted, no event lost.
#
#   sudo tests/e2e/test_prometheus.sh [DICOMON]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss python3 curl openssl prometheus promtool wrk echoscu storescu storescp img2dcm timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found: $DICOMON"

PFX="dmprom-$$"
NS_CLI=$PFX-cli NS_SRV=$PFX-srv
CLI_IP=10.220.0.1 SRV_IP=10.220.0.2
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/in" "$W/files" "$W/tsdb"

e2e_pair "$NS_CLI" "$NS_SRV" "$CLI_IP" "$SRV_IP"
e2e_make_pki "$W"
e2e_make_dicom "$W/files"

e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_SRV" storescp --aetitle PACS_SCP -od "$W/in" 11112
e2e_bg storescp-refuse "$W/logs/refuse.out" "$W/logs/refuse.err" \
    ip netns exec "$NS_SRV" storescp --aetitle PACS_SCP --refuse 104
e2e_bg storescp-tls "$W/logs/tls.out" "$W/logs/tls.err" \
    ip netns exec "$NS_SRV" storescp --aetitle PACS_SCP -od "$W/in" \
    +tls "$W/server.key" "$W/server.crt" -pw +cf "$W/ca.crt" 2762
for p in 11112 104 2762; do
    e2e_wait_for 10 "SCP on :$p" e2e_port_listening "$NS_SRV" "$p" || e2e_die "SCP :$p did not start"
done

e2e_dicomon_start dicomon "$NS_SRV" "$W/events.jsonl" "$W/logs/dicomon.err" \
    "$DICOMON" run -i eth0 --tc-egress --json -p 104,11112,2762 -o "table.status_socket=$W/status.sock" \
    -o metrics.connections_per_address=64 # wrk's 50 connections come from one address
PID_DICOMON=$E2E_DICOMON_PID
e2e_wait_for 10 "/metrics" ip netns exec "$NS_SRV" curl -sf -o /dev/null http://127.0.0.1:9479/metrics ||
    e2e_die "dicomon's /metrics does not answer"

cp "$REPO/dashboards/dicomon-alerts.yml" "$W/"
cat >"$W/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $W/dicomon-alerts.yml
scrape_configs:
  - job_name: dicomon
    static_configs:
      - targets: ['127.0.0.1:9479']
YML
promtool check config "$W/prometheus.yml" >"$W/logs/promtool-config.out" 2>&1 ||
    e2e_die "promtool check config: $(cat "$W/logs/promtool-config.out")"
e2e_bg prometheus "$W/logs/prometheus.out" "$W/logs/prometheus.err" \
    ip netns exec "$NS_SRV" prometheus --config.file="$W/prometheus.yml" \
    --storage.tsdb.path="$W/tsdb" --web.listen-address=127.0.0.1:9090 \
    --storage.tsdb.retention.time=1h --log.level=warn
PID_PROM=$E2E_LAST_PID
# shellcheck disable=SC2317 # called through e2e_wait_for
prom_ready() { ip netns exec "$NS_SRV" curl -sf -o /dev/null http://127.0.0.1:9090/-/ready; }
e2e_wait_for 30 "prometheus ready" prom_ready ||
    e2e_die "prometheus did not start: $(tail -n 20 "$W/logs/prometheus.err")"

run() { # NAME CMD... in the client namespace
    local name=$1
    shift
    timeout 30 ip netns exec "$NS_CLI" "$@" >"$W/logs/$name.out" 2>&1 || true
}
TLS_CLIENT=(+tls "$W/client.key" "$W/client.crt" -pw +cf "$W/ca.crt")
e2e_log "traffic: 3 echoes, a store of 2 files, a refused association, 2 TLS echoes"
for i in 1 2 3; do run "echo$i" echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 11112; done
run store storescu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 11112 "$W/files/small1.dcm" "$W/files/small2.dcm"
run refused echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 104
for i in 1 2; do run "tls$i" echoscu -aet MODALITY1 -aec PACS_SCP "${TLS_CLIENT[@]}" "$SRV_IP" 2762; done
grep -q "Association Rejected" "$W/logs/refused.out" || e2e_die "storescp --refuse did not reject: $(cat "$W/logs/refused.out")"

e2e_log "wrk: 50 connections on /metrics for 3 s, an echo in the middle"
lost_before=$(ip netns exec "$NS_SRV" curl -sf http://127.0.0.1:9479/metrics |
    awk '/^dicomon_ringbuf_reserve_failures_total/ {s += $2} END {print s + 0}')
ip netns exec "$NS_SRV" wrk -t2 -c50 -d3s --timeout 2s http://127.0.0.1:9479/metrics \
    >"$W/logs/wrk.out" 2>&1 &
PID_WRK=$!
sleep 1
run during-wrk echoscu -aet MODALITY1 -aec PACS_SCP "$SRV_IP" 11112
wait "$PID_WRK" || e2e_die "wrk failed: $(cat "$W/logs/wrk.out")"

python3 - "$W" "$REPO/dashboards/dicomon-grafana.json" "$lost_before" "$NS_SRV" <<'PY'
import json, re, subprocess, sys, time, urllib.parse
W, dash_path, lost_before, ns = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
passed = failed = 0
def check(ok, name, detail=""):
    global passed, failed
    ok = bool(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:600]))
    if ok: passed += 1
    else: failed += 1

def query(expr):
    url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    out = subprocess.run(["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "10", url],
                         capture_output=True, text=True)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {"status": "error", "error": out.stdout + out.stderr}

def scalar(expr):
    r = query(expr)
    if r.get("status") != "success" or not r["data"]["result"]:
        return None
    return float(r["data"]["result"][0]["value"][1])

# the traffic: 9 associations (3 echo + store + refused + 2 TLS + the echo during wrk)
want = {
    'sum(dicomon_associations_total{job="dicomon"})': 8,
    'sum(dicomon_association_events_total{event="new_cleartext"})': 6,
    'sum(dicomon_association_events_total{event="new_tls"})': 2,
    'sum(dicomon_associations_total{transport="cleartext",outcome="released"})': 5,
    'sum(dicomon_associations_total{transport="cleartext",outcome="rejected"})': 1,
    'sum(dicomon_association_rejects_total)': 1,
    'sum(dicomon_pdus_total{type="A-ASSOCIATE-RQ",direction="orig"})': 6,
    'sum(dicomon_pdus_total{type="A-ASSOCIATE-AC",direction="reply"})': 5,
    'sum(dicomon_pdus_total{type="A-ASSOCIATE-RJ",direction="reply"})': 1,
    'sum(dicomon_pdus_total{type="A-RELEASE-RQ",direction="orig"})': 5,
    'sum(dicomon_tls_associations_total)': 2,
    'sum(dicomon_dimse_messages_total{command="C-ECHO-RQ"})': 4,
    'sum(dicomon_dimse_messages_total{command="C-STORE-RQ"})': 2,
    'sum(dicomon_dimse_messages_total{command="C-STORE-RSP",status_class="success"})': 2,
    'sum(dicomon_active_associations)': 0,
}
# Prometheus scrapes every second: wait until it has what dicomon counted, and
# enough samples (5 in the last minute) for the panels' rate() and increase().
deadline = time.time() + 40
while time.time() < deadline:
    got = {e: scalar(e) for e in want}
    samples = scalar('min(count_over_time(dicomon_packets_total{class="dicom"}[1m]))') or 0
    if samples >= 5 and all(got[e] == v for e, v in want.items()):
        break
    time.sleep(1)
check(samples >= 5, "prometheus stored at least 5 scrapes in the last minute", samples)
for e, v in want.items():
    check(got[e] == v, "prometheus: %s = %d" % (e, v), "got %s" % got[e])
check(scalar('up{job="dicomon"}') == 1, "prometheus: up{job=\"dicomon\"} = 1")
check(scalar('sum(dicomon_ringbuf_reserve_failures_total)') == lost_before == 0,
      "no ring buffer event lost, before or during the wrk run",
      "before %s, after %s" % (lost_before, scalar('sum(dicomon_ringbuf_reserve_failures_total)')))
check(scalar('sum(dicomon_malformed_events_total)') == 0, "no malformed events")
check(scalar('dicomon_flow_table_capacity{table="slots"}') == 16384
      and scalar('dicomon_flow_table_entries{table="slots"}') is not None
      and scalar('sum(dicomon_table_evictions_total)') == 0,
      "flow table: 16384 slots (the default), entries exported, no association dropped from "
      "the userspace table")

# wrk: every request answered with 200
wrk = open(W + "/logs/wrk.out").read()
m = re.search(r"(\d+) requests in", wrk)
nreq = int(m.group(1)) if m else 0
check(nreq >= 50 and "Non-2xx" not in wrk and "Socket errors" not in wrk,
      "50 concurrent scrapers: %d requests, all 200, no socket error" % nreq, wrk)

# the rules file loaded, and nothing boundary-related fired (no imaging_networks set)
r = query('ALERTS{alertname="DicomCleartextAcrossBoundary"}')
check(r.get("status") == "success" and r["data"]["result"] == [],
      "alerting rules loaded; DicomCleartextAcrossBoundary quiet", r)
rules = subprocess.run(["ip", "netns", "exec", ns, "curl", "-sS", "http://127.0.0.1:9090/api/v1/rules"],
                       capture_output=True, text=True).stdout
check('"DicomonDown"' in rules and '"health":"ok"' in rules and '"health":"err' not in rules,
      "every alerting rule evaluates (health ok)", rules[:400])

# every panel query of the dashboard
dash = json.load(open(dash_path))
subst = {"$instance": ".*", "$interface": ".*", "$vlan": ".*", "$__rate_interval": "1m",
         "$__range": "5m", "$__interval": "15s", "${datasource}": ""}
must_have_data = {"Cleartext share of associations", "Cleartext share of DICOM bytes",
                  "Associations by outcome", "Rejects by reason", "Top AE pairs", "TLS versions",
                  "DIMSE operations", "Alerts by signature", "Packets by class",
                  "Cleartext share by VLAN", "DIMSE responses by status class", "DICOM traffic by class"}
errors, empty, n = [], [], 0
for p in dash["panels"]:
    for t in p.get("targets", []):
        expr = t["expr"]
        for k, v in subst.items():
            expr = expr.replace(k, v)
        n += 1
        r = query(expr)
        if r.get("status") != "success":
            errors.append("%s: %s: %s" % (p["title"], expr, r.get("error")))
        elif p["title"] in must_have_data and not r["data"]["result"]:
            empty.append(p["title"])
check(n >= 19 and not errors, "all %d dashboard queries run without error" % n, errors)
check(not empty, "the main panels return series", empty)
vars_ = {v["name"] for v in dash["templating"]["list"]}
check({"datasource", "instance", "interface", "vlan"} <= vars_ and
      all(p.get("datasource", {}).get("uid") == "${datasource}" for p in dash["panels"] if p["type"] != "row"),
      "datasource, instance, interface and VLAN variables; every panel on the datasource variable", vars_)
print("prometheus: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
rc=$?
e2e_stop "$PID_PROM" TERM 10 || true
e2e_stop "$PID_DICOMON" INT 10 || e2e_die "dicomon did not exit cleanly"
exit "$rc"
