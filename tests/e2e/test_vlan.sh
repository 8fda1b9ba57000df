#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# End-to-end test: VLAN ids of tags stripped by "NIC offload" (carried out of
# band in skb->vlan_tci), seen by dicomon's XDP path (device-bound copy calling
# bpf_xdp_metadata_rx_vlan_tag) and by its TC ingress path (skb->vlan_tci).
#
#   modality ns (10.215.0.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (10.215.0.6)
#                                      10.215.0.1          10.215.0.5
#
# No 802.1Q devices are needed: vlan_toggle.bpf.o (clsact, ingress + egress on
# all four veth ends) pushes VLAN 100 as an out-of-band tag on egress and pops
# it on ingress, after XDP and after dicomon's tcx link.
#
# Usage (as root):
#   tests/e2e/test_vlan.sh [--traffic-only] [--keep] [DICOMON]
#     DICOMON         dicomon binary (default: $DICOMON, else <repo>/.output/dicomon)
#     VLAN_TOGGLE_OBJ (env) default <repo>/.output/tests/vlan_toggle.bpf.o
#     --traffic-only  only check that a C-ECHO crosses the tagged links
#     --keep          keep the scratch dir (events, logs)
# Runs: xdp (default options), xdp-nometa (--no-vlan-meta: the fallback on any
# kernel), tc (--xdp-mode off --tc-ingress). Each: one echoscu, then one
# flow_end with vlan [100] and stats vlan_offload_tags > 0 (xdp-nometa: no VLAN,
# and the fallback reported as below).
# On a kernel without the XDP RX VLAN kfunc (before 6.8, e.g. Debian 12's
# 6.1) the xdp run checks the fallback instead: dicomon says XDP cannot see
# the stripped tags (stderr, the ready line, dicomon_fallback_active on
# /metrics) and its flow_end has no VLAN; the tc run is the same everywhere.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TRAFFIC_ONLY=0
e2e_args "traffic-only" "$@"
TOGGLE=${VLAN_TOGGLE_OBJ:-$REPO/.output/tests/vlan_toggle.bpf.o}

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP, tc)"
e2e_need ip tc ss python3 echoscu storescp timeout env mount curl
[[ -r $TOGGLE ]] || e2e_die "VLAN toggler not found: $TOGGLE (make $REPO/.output/tests/vlan_toggle.bpf.o)"
if ((!TRAFFIC_ONLY)); then
    [[ -x $DICOMON ]] || e2e_die "dicomon binary not found/executable: $DICOMON"
    DICOMON=$(realpath "$DICOMON")
fi

# Does this kernel let XDP read stripped tags? (dicomon version says.)
KFUNC=$("$DICOMON" version --json 2>/dev/null | python3 -c \
    'import json,sys; print(1 if json.load(sys.stdin)["features"].get("xdp_rx_vlan_tag") else 0)' || echo 0)

PFX="dmvlan-$$"
NS_MOD="$PFX-mod" NS_GW="$PFX-gw" NS_PACS="$PFX-pacs"
MOD_IP=10.215.0.2 GW_MOD_IP=10.215.0.1 GW_PACS_IP=10.215.0.5 PACS_IP=10.215.0.6
PORT=11112 AE_MOD=MODALITY1 AE_PACS=PACS_SCP

trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/out"
PASSED=0 FAILED=0

# ------------------------------------------------------------------ topology
e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" 10.215.0
for nd in "$NS_MOD eth0" "$NS_GW gw-mod" "$NS_GW gw-pacs" "$NS_PACS eth0"; do
    read -r ns dev <<<"$nd"
    # VLAN 100 out of band on both directions of every link
    tc -n "$ns" qdisc add dev "$dev" clsact
    for dir in ingress egress; do
        tc -n "$ns" filter add dev "$dev" "$dir" bpf direct-action obj "$TOGGLE" sec tc
    done
done

e2e_bg storescp "$W/storescp.out" "$W/storescp.err" \
    ip netns exec "$NS_PACS" storescp --aetitle "$AE_PACS" -od "$W/out" "$PORT"
e2e_wait_for 10 "storescp on :$PORT" e2e_port_listening "$NS_PACS" "$PORT" ||
    e2e_die "storescp did not start: $(cat "$W/storescp.err")"

# client ports of associations to the pacs, as seen by either end's sockets
# (one of the two keeps the connection in TIME-WAIT for 60 s)
client_ports() {
    {
        ip netns exec "$NS_MOD" ss -Htan "dst $PACS_IP:$PORT" | awk '{split($4, a, ":"); print a[2]}'
        ip netns exec "$NS_PACS" ss -Htan "src $PACS_IP:$PORT" "dst $MOD_IP" | awk '{split($5, a, ":"); print a[2]}'
    } | sort -u
}

# echo_once TAG : one C-ECHO modality -> pacs; sets ECHO_PORT (new client port)
echo_once() {
    local before rc=0 new
    before=$(client_ports)
    timeout 30 ip netns exec "$NS_MOD" echoscu -aet "$AE_MOD" -aec "$AE_PACS" "$PACS_IP" "$PORT" \
        >"$W/echo-$1.log" 2>&1 || rc=$?
    new=$(comm -13 <(echo "$before") <(client_ports) | grep . || true)
    ECHO_PORT=$([[ $(wc -w <<<"$new") == 1 ]] && echo "$new" || echo "")
    e2e_result $((rc == 0)) "$1: echoscu through tagged links" "rc=$rc: $(tail -n 3 "$W/echo-$1.log")"
    e2e_result $((${#ECHO_PORT} > 0)) "$1: one new client port" "got '${new//$'\n'/ }'"
}

echo_once traffic
if ((TRAFFIC_ONLY)); then
    tc -n "$NS_GW" -s filter show dev gw-mod ingress | sed 's/^/    /'
    echo "vlan: $PASSED passed, $FAILED failed"
    exit $((FAILED > 0))
fi

# ------------------------------------------------------------------ dicomon
# run_case NAME DICOMON-OPTION... : dicomon in the gateway, one echo, checks
run_case() {
    local name=$1 ev=$W/events-$1.jsonl err=$W/dicomon-$1.err rc=0 pid
    shift
    e2e_dicomon_start "dicomon-$name" "$NS_GW" "$ev" "$err" \
        "$DICOMON" run -i gw-mod -i gw-pacs --json -v -o "table.status_socket=$W/status.sock" "$@"
    pid=$E2E_DICOMON_PID
    echo_once "$name"
    flow_end() { grep -Eq '"event"[[:space:]]*:[[:space:]]*"flow_end"' "$ev"; }
    sleep 0.3
    e2e_wait_for 10 "flow_end ($name)" flow_end || true
    local want_vlan=1 hidden n why=""
    [[ $name == xdp && $KFUNC == 0 ]] && want_vlan=0 why="this kernel has no bpf_xdp_metadata_rx_vlan_tag"
    [[ $name == xdp-nometa ]] && want_vlan=0 why="attach.vlan_meta is false"
    hidden=$(ip netns exec "$NS_GW" curl -s --max-time 5 http://127.0.0.1:9479/metrics |
        grep -c '^dicomon_fallback_active{interface="gw-[a-z]*",fallback="xdp_vlan_tags_hidden"} 1' || true)
    e2e_stop "$pid" INT 10 || rc=$?
    e2e_result $((rc == 0)) "$name: dicomon exit status" "rc=$rc; stderr: $(tail -n 5 "$err")"
    if [[ $name == xdp ]] && ((want_vlan)); then
        n=$(grep -c 'XDP attached (native, with RX VLAN metadata)' "$err" || true)
        e2e_result $((n == 2)) "$name: device-bound XDP with RX VLAN metadata on both interfaces" \
            "$(grep -i 'xdp\|vlan' "$err" | head -n 4)"
        e2e_result $((hidden == 0)) "$name: no xdp_vlan_tags_hidden fallback on /metrics" "$hidden interfaces"
    elif ((!want_vlan)); then
        n=$(grep -cF "the NIC strips VLAN tags (rxvlan on) and XDP cannot read them ($why" "$err" || true)
        e2e_result $((n == 2)) "$name: XDP cannot see the stripped tags ($why): the warning names both interfaces" \
            "$(grep -i 'vlan' "$err" | head -n 4)"
        e2e_result $((hidden == 2)) "$name: /metrics dicomon_fallback_active{fallback=\"xdp_vlan_tags_hidden\"} 1 on both" "$hidden interfaces"
        n=$(grep -c '"xdp_vlan_tags":"hidden"' "$ev" || true)
        e2e_result $((n == 1)) "$name: the ready line says the tags are hidden" "$(head -n 1 "$ev" | cut -c1-300)"
    fi
    python3 - "$ev" "$name" "${ECHO_PORT:-0}" "$want_vlan" <<'PY' && PASSED=$((PASSED + 1)) || FAILED=$((FAILED + 1))
import json, sys
path, name, port, want_vlan = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
ev = []
for line in open(path):
    try:
        ev.append(json.loads(line))
    except ValueError:
        pass
ends = [e for e in ev if e.get("event") == "flow_end" and e.get("sport") == port and e.get("dport") == 11112]
stats = [e for e in ev if e.get("event") == "stats"]
bad = []
if len(ends) != 1:
    bad.append("%d flow_end events for client port %d (all flow_ends: %s)" % (
        len(ends), port, [(e.get("sport"), e.get("vlan")) for e in ev if e.get("event") == "flow_end"]))
else:
    e = ends[0]
    want = {"vlan": [100] if want_vlan else [], "state": "released",
            "calling_ae": "MODALITY1", "called_ae": "PACS_SCP",
            "pdus": {"orig": {"A-ASSOCIATE-RQ": 1, "P-DATA-TF": 1, "A-RELEASE-RQ": 1},
                     "reply": {"A-ASSOCIATE-AC": 1, "P-DATA-TF": 1, "A-RELEASE-RP": 1}}}
    for k, v in want.items():
        if e.get(k) != v:
            bad.append("flow_end %s: got %r, expected %r" % (k, e.get(k), v))
if not stats:
    bad.append("no final stats line")
else:
    tot = stats[-1].get("total", {}).get("counters", {}).get("vlan_offload_tags")
    if want_vlan and not (isinstance(tot, int) and tot > 0):
        bad.append("stats total.counters.vlan_offload_tags: got %r, expected > 0" % (tot,))
    if not want_vlan and tot not in (None, 0):
        bad.append("stats total.counters.vlan_offload_tags: got %r, expected none" % (tot,))
print(("FAIL %s: events\n    " % name + "\n    ".join(bad)) if bad else "PASS %s: events" % name)
sys.exit(1 if bad else 0)
PY
}

run_case xdp
# The fallback on every kernel: no device-bound copy wanted.
run_case xdp-nometa --no-vlan-meta
run_case tc --xdp-mode off --tc-ingress
echo "vlan: $PASSED passed, $FAILED failed"
((FAILED == 0))
