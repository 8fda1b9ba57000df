#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# End-to-end test: real DCMTK traffic through a gateway namespace where
# dicomon runs; dicomon's flow_end events are compared with tshark's view of
# the same packets.
#
#   modality ns (10.213.0.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (10.213.0.6)
#                                      10.213.0.1          10.213.0.5
#
# Usage (as root):
#   tests/e2e/test_dcmtk.sh [--traffic-only] [--keep] [DICOMON]
#     DICOMON        path of the dicomon binary (default: $DICOMON, else
#                    <repo>/.output/dicomon)
#     --traffic-only run the DCMTK scenarios and print tshark's ground truth,
#                    without dicomon
#     --keep         keep the scratch dir (pcap, events, logs) for inspection
#     --xdp-obj FILE with --traffic-only: attach the XDP program in FILE
#                    (section "xdp", e.g. a plain XDP_PASS) to gw-mod and
#                    gw-pacs, to exercise the harness under the conditions
#                    dicomon creates (veth native XDP disables GSO on the peers)
#
# Scenarios (one association each, in this order):
#   echo        echoscu   MODALITY1 -> PACS_SCP   cleartext :11112  released
#   store       storescu  3 files (one 3 MiB)     cleartext :11112  released
#   tls-echo    echoscu  +tls                     TLS       :2762
#   tls-store   storescu +tls 1 small file        TLS       :2762
#   abort       echoscu --abort                   cleartext :11112  aborted
#   reject      echoscu   MODALITY1 -> WRONG_AE   cleartext :11112  rejected
#               (dcmqrscp whose AETable knows only PACS_SCP)
#   tls-downgrade echoscu +tls -> storescp +tls +pz  TLS 1.3 offered, 1.2 selected
#   tls-legacy    echoscu +tls +pa -> storescp +tls +px  legacy ClientHello, TLS 1.2
# TLS flows are expected to end in state tls_established.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TRAFFIC_ONLY=0
XDP_OBJ=""
e2e_args "traffic-only xdp-obj" "$@"

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss openssl python3 tshark echoscu storescu storescp dcmqrscp img2dcm timeout env curl promtool
if [[ -n $XDP_OBJ ]] && ((!TRAFFIC_ONLY)); then
    e2e_die "--xdp-obj only with --traffic-only (dicomon attaches its own XDP program)"
fi
if ((!TRAFFIC_ONLY)); then
    [[ -x "$DICOMON" ]] || e2e_die "dicomon binary not found/executable: $DICOMON (use --traffic-only to run without it)"
    DICOMON=$(realpath "$DICOMON")
fi

T0=$SECONDS
PFX="dme2e-$$"
NS_MOD="$PFX-mod"
NS_GW="$PFX-gw"
NS_PACS="$PFX-pacs"
MOD_IP=10.213.0.2
GW_MOD_IP=10.213.0.1
GW_PACS_IP=10.213.0.5
PACS_IP=10.213.0.6
PORT_DICOM=11112
PORT_TLS=2762
AE_MOD=MODALITY1
AE_PACS=PACS_SCP
AE_WRONG=WRONG_AE

trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/out-plain" "$W/out-tls" "$W/logs" "$W/files"

# ------------------------------------------------------------------ topology
e2e_log "creating namespaces $NS_MOD / $NS_GW / $NS_PACS"
e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" 10.213.0
# Optional: MTU-sized segments like a real wire (veth otherwise passes 64 KiB
# TSO super-segments). Only if ethtool happens to be installed.
if command -v ethtool >/dev/null 2>&1; then
    ethtool_quiet() { ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true; }
    ethtool_quiet "$NS_MOD" eth0
    ethtool_quiet "$NS_PACS" eth0
    ethtool_quiet "$NS_GW" gw-mod
    ethtool_quiet "$NS_GW" gw-pacs
fi
if [[ -n $XDP_OBJ ]]; then
    e2e_log "attaching $XDP_OBJ (sec xdp) to gw-mod and gw-pacs"
    ip -n "$NS_GW" link set dev gw-mod xdp obj "$XDP_OBJ" sec xdp
    ip -n "$NS_GW" link set dev gw-pacs xdp obj "$XDP_OBJ" sec xdp
fi

# ------------------------------------------------------------------ fixtures
e2e_log "generating throwaway PKI and DICOM files in $W/files"
e2e_make_pki "$W/files"
e2e_make_dicom "$W/files"
F=$W/files
TLS_SERVER=(+tls "$F/server.key" "$F/server.crt" -pw +cf "$F/ca.crt")
TLS_CLIENT=(+tls "$F/client.key" "$F/client.crt" -pw +cf "$F/ca.crt")

# ------------------------------------------------------------------ servers
e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_PACS" storescp -v --aetitle "$AE_PACS" -od "$W/out-plain" "$PORT_DICOM"
PID_STORESCP=$E2E_LAST_PID
e2e_wait_for 10 "storescp on :$PORT_DICOM" e2e_port_listening "$NS_PACS" "$PORT_DICOM" ||
    e2e_die "storescp did not start: $(cat "$W/logs/storescp.err")"

# start_tls_server TAG [PROFILE-OPTION...] : (re)start storescp +tls on :2762
PID_STORESCP_TLS=""
start_tls_server() {
    local tag=$1
    shift
    if [[ -n $PID_STORESCP_TLS ]]; then
        e2e_stop "$PID_STORESCP_TLS" TERM 5 || true
        e2e_wait_for 10 "port $PORT_TLS released" e2e_port_free "$NS_PACS" "$PORT_TLS" ||
            e2e_die "storescp +tls did not release :$PORT_TLS"
    fi
    e2e_bg "storescp-$tag" "$W/logs/storescp-$tag.out" "$W/logs/storescp-$tag.err" \
        ip netns exec "$NS_PACS" storescp -v --aetitle "$AE_PACS" -od "$W/out-tls" \
        "${TLS_SERVER[@]}" "$@" "$PORT_TLS"
    PID_STORESCP_TLS=$E2E_LAST_PID
    e2e_wait_for 10 "storescp +tls ($tag) on :$PORT_TLS" e2e_port_listening "$NS_PACS" "$PORT_TLS" ||
        e2e_die "storescp +tls ($tag) did not start: $(cat "$W/logs/storescp-$tag.err")"
}
start_tls_server tls-default

# TCP reachability modality -> pacs through the gateway (before the capture
# starts, so this probe connection is not part of the ground truth)
timeout 5 ip netns exec "$NS_MOD" bash -c "exec 3<>/dev/tcp/$PACS_IP/$PORT_TLS" ||
    e2e_die "no TCP path modality -> pacs:$PORT_TLS through the gateway"

# ------------------------------------------------------------------ capture
PCAP=$W/gw-pacs.pcapng
e2e_capture_start "$NS_GW" gw-pacs "$PCAP" "$PACS_IP"
PID_TSHARK=$E2E_TSHARK_PID

# ------------------------------------------------------------------ dicomon
EVENTS=$W/events.jsonl
PID_DICOMON=""
if ((!TRAFFIC_ONLY)); then
    e2e_log "starting $DICOMON in $NS_GW"
    e2e_dicomon_start dicomon "$NS_GW" "$EVENTS" "$W/logs/dicomon.err" \
        "$DICOMON" run -i gw-mod -i gw-pacs --json -o "table.status_socket=$W/status.sock"
    PID_DICOMON=$E2E_DICOMON_PID
fi

# ------------------------------------------------------------------ traffic
MANIFEST=$W/manifest.tsv
printf 'name\tdport\ttransport\tcalling_ae\tcalled_ae\tstate\ttool_ok\tnote\n' >"$MANIFEST"

# run_assoc NAME DPORT TRANSPORT CALLING CALLED STATE EXPECT(ok|fail) CMD...
# Runs one DCMTK client (which makes exactly one association) in the modality
# namespace and appends its expectations to the manifest.
run_assoc() {
    local name=$1 dport=$2 transport=$3 calling=$4 called=$5 state=$6 expect=$7 rc=0 ok=1 note
    shift 7
    local t=$SECONDS
    timeout 30 ip netns exec "$NS_MOD" "$@" >"$W/logs/$name.out" 2>&1 || rc=$?
    if [[ $expect == ok ]]; then
        ((rc == 0)) || ok=0
        note="rc=$rc"
    else
        ((rc != 0 && rc != 124)) || ok=0
        note="rc=$rc(expected failure)"
    fi
    if ((!ok)); then
        e2e_log "scenario $name: unexpected exit status $rc; output:"
        sed 's/^/    /' "$W/logs/$name.out" >&2
    fi
    e2e_log "scenario $name: $* -> rc=$rc ($((SECONDS - t))s)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$dport" "$transport" "$calling" "$called" \
        "$state" "$ok" "$note" >>"$MANIFEST"
}

# append " extra-check" result to the last manifest row's tool_ok/note
amend_last() {
    local ok=$1 msg=$2
    python3 - "$MANIFEST" "$ok" "$msg" <<'PY'
import sys
path, ok, msg = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(path).read().rstrip("\n").split("\n")
f = lines[-1].split("\t")
if ok != "1":
    f[6] = "0"
f[7] = f[7] + "; " + msg
lines[-1] = "\t".join(f)
open(path, "w").write("\n".join(lines) + "\n")
PY
}

count_files() { find "$1" -type f | wc -l; }

# 1. C-ECHO, cleartext
run_assoc echo "$PORT_DICOM" cleartext "$AE_MOD" "$AE_PACS" released ok \
    echoscu -aet "$AE_MOD" -aec "$AE_PACS" "$PACS_IP" "$PORT_DICOM"

# 2. C-STORE of 3 files (one with 3 MiB pixel data), cleartext
run_assoc store "$PORT_DICOM" cleartext "$AE_MOD" "$AE_PACS" released ok \
    storescu -aet "$AE_MOD" -aec "$AE_PACS" "$PACS_IP" "$PORT_DICOM" \
    "$F/small1.dcm" "$F/big.dcm" "$F/small2.dcm"
n=$(count_files "$W/out-plain")
if ((n == 3)); then amend_last 1 "storescp stored 3 files"; else amend_last 0 "storescp stored $n files, expected 3"; fi

# 3. TLS: C-ECHO and C-STORE (1 small file), both sides on DCMTK's default
#    profile (+py, BCP 195 non-downgrading): TLS 1.3 offered and selected here.
run_assoc tls-echo "$PORT_TLS" tls - - tls_established ok \
    echoscu -aet "$AE_MOD" -aec "$AE_PACS" "${TLS_CLIENT[@]}" "$PACS_IP" "$PORT_TLS"
run_assoc tls-store "$PORT_TLS" tls - - tls_established ok \
    storescu -aet "$AE_MOD" -aec "$AE_PACS" "${TLS_CLIENT[@]}" "$PACS_IP" "$PORT_TLS" "$F/small1.dcm"
n=$(count_files "$W/out-tls")
if ((n == 1)); then amend_last 1 "storescp +tls stored 1 file"; else amend_last 0 "storescp +tls stored $n files, expected 1"; fi

# 3b. Extra: an aborted association (echoscu --abort: A-ABORT instead of release).
run_assoc abort "$PORT_DICOM" cleartext "$AE_MOD" "$AE_PACS" aborted ok \
    echoscu --abort -aet "$AE_MOD" -aec "$AE_PACS" "$PACS_IP" "$PORT_DICOM"

# 4. Rejected association: storescp cannot check the called AE title, so the
#    plain storescp is replaced on :11112 by a dcmqrscp whose AETable only
#    knows PACS_SCP; it answers a request for WRONG_AE with A-ASSOCIATE-RJ.
e2e_stop "$PID_STORESCP" TERM 5 || true
e2e_wait_for 10 "port $PORT_DICOM released" e2e_port_free "$NS_PACS" "$PORT_DICOM" ||
    e2e_die "storescp did not release :$PORT_DICOM"
e2e_make_dcmqrscp_cfg "$W/dcmqrscp.cfg" "$W/qrdb" "$PORT_DICOM" "$AE_PACS"
e2e_bg dcmqrscp "$W/logs/dcmqrscp.out" "$W/logs/dcmqrscp.err" \
    ip netns exec "$NS_PACS" dcmqrscp -v --single-process -c "$W/dcmqrscp.cfg" "$PORT_DICOM"
e2e_wait_for 10 "dcmqrscp on :$PORT_DICOM" e2e_port_listening "$NS_PACS" "$PORT_DICOM" ||
    e2e_die "dcmqrscp did not start: $(cat "$W/logs/dcmqrscp.err" "$W/logs/dcmqrscp.out")"
run_assoc reject "$PORT_DICOM" cleartext "$AE_MOD" "$AE_WRONG" rejected fail \
    echoscu -aet "$AE_MOD" -aec "$AE_WRONG" "$PACS_IP" "$PORT_DICOM"
if grep -q "Association Rejected" "$W/logs/reject.out"; then
    amend_last 1 "echoscu reports Association Rejected"
else
    amend_last 0 "echoscu did not report 'Association Rejected'"
fi

# 5. Extra TLS version cases (offered != selected, and a legacy ClientHello):
#  tls-downgrade: server on the Extended BCP 195 profile (+pz) answers the
#    default client's TLS 1.3 offer with a TLS 1.2 ServerHello (no
#    supported_versions extension).
#  tls-legacy: client on the retired AES profile (+pa) sends a ClientHello
#    without supported_versions (legacy_version 0x0303 = TLS 1.2); the server
#    on the BCP 195 profile (+px) accepts it with TLS 1.2.
start_tls_server tls-pz +pz
run_assoc tls-downgrade "$PORT_TLS" tls - - tls_established ok \
    echoscu -aet "$AE_MOD" -aec "$AE_PACS" "${TLS_CLIENT[@]}" "$PACS_IP" "$PORT_TLS"
start_tls_server tls-px +px
run_assoc tls-legacy "$PORT_TLS" tls - - tls_established ok \
    echoscu -aet "$AE_MOD" -aec "$AE_PACS" "${TLS_CLIENT[@]}" +pa "$PACS_IP" "$PORT_TLS"
NASSOC=$(($(wc -l <"$MANIFEST") - 1))

# ------------------------------------------------------------------ stop
# Give the last FIN/ACK exchange a moment to cross the gateway, and give
# dicomon up to 10 s to emit a flow_end for every association.
sleep 0.5
if [[ -n "$PID_DICOMON" ]]; then
    have_all_flow_ends() {
        (($(grep -Ec '"event"[[:space:]]*:[[:space:]]*"flow_end"' "$EVENTS" || true) >= NASSOC))
    }
    e2e_wait_for 10 "$NASSOC flow_end events" have_all_flow_ends || true
    # The Prometheus endpoint (metrics.listen's default, in the gateway's
    # own loopback): checked against tshark below, linted by promtool.
    METRICS=$W/metrics.txt
    ip netns exec "$NS_GW" curl -sS --max-time 5 -o "$METRICS" http://127.0.0.1:9479/metrics ||
        e2e_log "scrape of /metrics failed"
    DICOMON_RC=0
    e2e_stop "$PID_DICOMON" INT 10 || DICOMON_RC=$?
    e2e_log "dicomon exited with status $DICOMON_RC"
fi
e2e_stop "$PID_TSHARK" INT 10 || true
if grep -qi 'dropped' "$W/logs/tshark.err"; then
    e2e_log "WARNING: tshark reports dropped packets: $(grep -i dropped "$W/logs/tshark.err")"
fi
e2e_stop "$PID_STORESCP_TLS" TERM 5 || true

# ------------------------------------------------------------------ ground truth
TRUTH=$W/tshark.tsv
PAYLOAD=$W/tshark-payload.tsv
CHECK=(python3 "$HERE/check_events.py")
"${CHECK[@]}" extract --pcap "$PCAP" --dicom-port "$PORT_DICOM" --tls-port "$PORT_TLS" \
    --out "$TRUTH" --payload-out "$PAYLOAD" 2>"$W/logs/tshark-read.err" ||
    e2e_die "tshark could not read the capture: $(cat "$W/logs/tshark-read.err")"

rc=0
if ((TRAFFIC_ONLY)); then
    "${CHECK[@]}" truth --manifest "$MANIFEST" --tshark "$TRUTH" --payload "$PAYLOAD" || rc=$?
else
    # The capture through `dicomon replay` (same defaults as the live daemon): the
    # same records, field by field, TLS and the 3 MiB store included.
    REPLAY=$W/replay.jsonl
    "$DICOMON" replay --json "$PCAP" >"$REPLAY" 2>"$W/logs/replay.err" ||
        e2e_log "dicomon replay failed: $(tail -n 3 "$W/logs/replay.err")"
    python3 "$HERE/compare_records.py" "$EVENTS" "$REPLAY" || rc=1
    "${CHECK[@]}" check --manifest "$MANIFEST" --tshark "$TRUTH" --payload "$PAYLOAD" \
        --events "$EVENTS" --dicomon-rc "$DICOMON_RC" --metrics "$METRICS" || rc=$?
fi
e2e_log "done in $((SECONDS - T0))s (scratch: $W$([[ $E2E_KEEP == 1 ]] && echo ', kept'))"
exit "$rc"
