#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# End-to-end test of dicomon's association records: real DCMTK peers (a
# dcmqrscp Q/R archive on the pacs, DCMTK SCUs and a storescp as C-MOVE
# destination on the modality) through a gateway namespace where dicomon
# runs; every flow_end is compared field by field with tshark's DICOM
# dissection of the same packets and with what the tools were told to do.
#
#   modality ns (10.217.0.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (10.217.0.6)
#     storescp MOVEDEST :11113         10.217.0.1          10.217.0.5        dcmqrscp PACS_QR :11112
#
# Usage (as root):
#   tests/e2e/test_assoc.sh [--traffic-only] [--keep] [DICOMON]
#     DICOMON        dicomon binary (default: $DICOMON, else <repo>/.output/dicomon)
#     --traffic-only run the scenarios without dicomon and print tshark's
#                    ground truth (per association: AE titles, contexts,
#                    implementation UIDs, DIMSE commands and statuses)
#     --keep         keep the scratch dir (pcap, extracts, events, logs)
#
# Scenarios (one association each, in this order; dcmqrscp holds 5 studies
# by then: 2 registered with dcmqridx before the capture, 3 stored by "store"):
#   echo     echoscu  MODALITY1 -> PACS_QR                         released
#   store    storescu -R, 3 files                                   released
#   find     findscu -S, STUDY level, all studies: 5 pending + success
#   move     movescu -S, one study to MOVEDEST                      released
#   move-sub the C-STORE sub-operation association dcmqrscp opens:
#            PACS_QR -> MOVEDEST (10.217.0.6 -> 10.217.0.2:11113), its
#            C-STORE-RQ carries Move Originator MODALITY1           released
#   manypc   storescu -xf with a generated profile of 120 presentation
#            contexts (an A-ASSOCIATE-RQ over several TCP segments)  released
#   reject   echoscu -aec WRONG_AE: A-ASSOCIATE-RJ 1/1/7             rejected
#   abort    echoscu --abort: C-ECHO, then A-ABORT                   aborted
# The last line printed is "assoc: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TRAFFIC_ONLY=0
e2e_args "traffic-only" "$@"

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss python3 tshark echoscu storescu findscu movescu storescp dcmqrscp dcmqridx \
    dcmodify dcmdump img2dcm timeout env
if ((!TRAFFIC_ONLY)); then
    [[ -x "$DICOMON" ]] || e2e_die "dicomon binary not found/executable: $DICOMON (use --traffic-only to run without it)"
    DICOMON=$(realpath "$DICOMON")
fi

T0=$SECONDS
PFX="dmassoc-$$"
NS_MOD="$PFX-mod"
NS_GW="$PFX-gw"
NS_PACS="$PFX-pacs"
MOD_IP=10.217.0.2
GW_MOD_IP=10.217.0.1
GW_PACS_IP=10.217.0.5
PACS_IP=10.217.0.6
PORT_QR=11112   # dcmqrscp on the pacs
PORT_MOVE=11113 # storescp (C-MOVE destination) on the modality
AE_MOD=MODALITY1
AE_QR=PACS_QR
AE_DEST=MOVEDEST
AE_WRONG=WRONG_AE
CHECK=(python3 "$HERE/check_assoc.py")

trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/files" "$W/qrdb" "$W/out-move"

# ------------------------------------------------------------------ topology
e2e_log "creating namespaces $NS_MOD / $NS_GW / $NS_PACS"
e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" 10.217.0
# MTU-sized TCP segments as on a real wire, without ethtool: a GSO limit of
# one segment makes TCP build one-MSS packets (veth would otherwise pass 64 KiB
# super-segments, and the 120-context A-ASSOCIATE-RQ would be one "segment").
for nd in "$NS_MOD eth0" "$NS_GW gw-mod" "$NS_GW gw-pacs" "$NS_PACS eth0"; do
    read -r ns dev <<<"$nd"
    ip -n "$ns" link set dev "$dev" gso_max_segs 1 2>/dev/null ||
        e2e_log "note: cannot set gso_max_segs on $ns/$dev (iproute2 too old?)"
done

# ------------------------------------------------------------------ fixtures
# small1..3 and pre1..2: 32x32 / 48x40 secondary captures, each its own study
e2e_log "generating DICOM files in $W/files"
F=$W/files
e2e_make_dicom "$F"
rm -f "$F/big.dcm" # 3 MiB: not needed here
# copy SRC DST PATIENTID : DST = SRC with new study/series/instance UIDs
dcm_copy() {
    cp "$1" "$2"
    dcmodify -q -nb -gst -gse -gin -m "PatientID=$3" -m "PatientName=E2E^$3" "$2"
}
dcm_copy "$F/small1.dcm" "$F/small3.dcm" E2E3
dcm_copy "$F/small2.dcm" "$F/small4.dcm" E2E4
dcm_copy "$F/small1.dcm" "$F/pre1.dcm" PRE1
dcm_copy "$F/small2.dcm" "$F/pre2.dcm" PRE2
study_of() { dcmdump -q +P StudyInstanceUID "$1" | sed -n 's/.*\[\([0-9.]*\)\].*/\1/p'; }
MOVE_STUDY=$(study_of "$F/small1.dcm")
[[ -n $MOVE_STUDY ]] || e2e_die "no StudyInstanceUID in small1.dcm"

# dcmqrscp: AE PACS_QR with a storage area; the HostTable names the
# modality's storescp (MOVEDEST) as the C-MOVE destination. AETable peers
# ANY: the called AE title is checked, the calling one is not.
cat >"$W/dcmqrscp.cfg" <<EOF
NetworkTCPPort  = $PORT_QR
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
modality = ($AE_MOD, $MOD_IP, $PORT_MOVE)
movedest = ($AE_DEST, $MOD_IP, $PORT_MOVE)
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
$AE_QR   $W/qrdb   RW   (50, 64mb)   ANY
AETable END
EOF
# 2 studies registered offline, before any traffic
cp "$F/pre1.dcm" "$F/pre2.dcm" "$W/qrdb/"
dcmqridx -q "$W/qrdb" "$W/qrdb/pre1.dcm" "$W/qrdb/pre2.dcm" ||
    e2e_die "dcmqridx could not register the preload files"
N_PRELOAD=2

# storescu profile with 120 presentation contexts (scenario manypc)
"${CHECK[@]}" profile --out "$W/storescu-many.cfg" --name ManyContexts

# ------------------------------------------------------------------ servers
# Not --single-process: Debian 12's dcmqrscp 3.6.7 segfaults in that mode
# after the first released association. Forked children serve one
# association each and live inside the pacs namespace (cleanup kills them).
e2e_bg dcmqrscp "$W/logs/dcmqrscp.out" "$W/logs/dcmqrscp.err" \
    ip netns exec "$NS_PACS" dcmqrscp -v -c "$W/dcmqrscp.cfg" "$PORT_QR"
e2e_wait_for 10 "dcmqrscp on :$PORT_QR" e2e_port_listening "$NS_PACS" "$PORT_QR" ||
    e2e_die "dcmqrscp did not start: $(cat "$W/logs/dcmqrscp.err" "$W/logs/dcmqrscp.out")"
e2e_bg storescp-movedest "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_MOD" storescp -v --aetitle "$AE_DEST" -od "$W/out-move" "$PORT_MOVE"
e2e_wait_for 10 "storescp on :$PORT_MOVE" e2e_port_listening "$NS_MOD" "$PORT_MOVE" ||
    e2e_die "storescp did not start: $(cat "$W/logs/storescp.err")"

# TCP reachability both ways through the gateway (before the capture starts)
timeout 5 ip netns exec "$NS_MOD" bash -c "exec 3<>/dev/tcp/$PACS_IP/$PORT_QR" ||
    e2e_die "no TCP path modality -> pacs:$PORT_QR through the gateway"
timeout 5 ip netns exec "$NS_PACS" bash -c "exec 3<>/dev/tcp/$MOD_IP/$PORT_MOVE" ||
    e2e_die "no TCP path pacs -> modality:$PORT_MOVE through the gateway"

# ------------------------------------------------------------------ capture
PCAP=$W/gw-pacs.pcapng
e2e_capture_start "$NS_GW" gw-pacs "$PCAP" "$PACS_IP"
PID_TSHARK=$E2E_TSHARK_PID

# ------------------------------------------------------------------ dicomon
EVENTS=$W/events.jsonl
PID_DICOMON=""
DICOMON_RC=""
if ((!TRAFFIC_ONLY)); then
    e2e_log "starting $DICOMON in $NS_GW"
    e2e_dicomon_start dicomon "$NS_GW" "$EVENTS" "$W/logs/dicomon.err" \
        "$DICOMON" run -i gw-mod -i gw-pacs --json -o "table.status_socket=$W/status.sock"
    PID_DICOMON=$E2E_DICOMON_PID
fi

# ------------------------------------------------------------------ traffic
# The manifest: one row per association in the order they start.
#   name initiator(ip) dport calling_ae called_ae tool_ok note expect(JSON)
# `expect` holds what the tools were told to do; check_assoc.py checks
# tshark's view against it, then dicomon's flow_end against tshark's view.
MANIFEST=$W/manifest.tsv
printf 'name\tinitiator\tdport\tcalling_ae\tcalled_ae\ttool_ok\tnote\texpect\n' >"$MANIFEST"
manifest_row() { # NAME INITIATOR DPORT CALLING CALLED OK NOTE EXPECT-JSON
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$MANIFEST"
}

# run_scu NAME EXPECT(ok|fail) CMD... : one DCMTK client in the modality
# namespace; sets SCU_OK (1/0) and SCU_NOTE
run_scu() {
    local name=$1 expect=$2 rc=0 t=$SECONDS
    shift 2
    timeout 30 ip netns exec "$NS_MOD" "$@" >"$W/logs/$name.out" 2>&1 || rc=$?
    SCU_OK=1
    if [[ $expect == ok ]]; then
        ((rc == 0)) || SCU_OK=0
        SCU_NOTE="rc=$rc"
    else
        ((rc != 0 && rc != 124)) || SCU_OK=0
        SCU_NOTE="rc=$rc(expected failure)"
    fi
    if ((!SCU_OK)); then
        e2e_log "scenario $name: unexpected exit status $rc; output:"
        sed 's/^/    /' "$W/logs/$name.out" >&2
    fi
    e2e_log "scenario $name: ${*:1:2} ... -> rc=$rc ($((SECONDS - t))s)"
}
# note_check NAME OK MESSAGE : add a tool-side check result to SCU_OK/SCU_NOTE
note_check() {
    SCU_NOTE="$SCU_NOTE; $3"
    if (($2 == 0)); then
        SCU_OK=0
        e2e_log "scenario $1: $3"
    fi
}
qr_files() { find "$W/qrdb" -maxdepth 1 -type f ! -name 'index.dat' | wc -l; }

VERIF=1.2.840.10008.1.1
SC=1.2.840.10008.5.1.4.1.1.7
FIND_STUDY=1.2.840.10008.5.1.4.1.2.2.1
MOVE_STUDY_ROOT=1.2.840.10008.5.1.4.1.2.2.2

# 1. C-ECHO
run_scu echo ok echoscu -aet "$AE_MOD" -aec "$AE_QR" "$PACS_IP" "$PORT_QR"
manifest_row echo "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_QR" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$VERIF\"],\"commands\":{\"C-ECHO-RQ\":1,\"C-ECHO-RSP\":1},\"statuses\":{\"success\":1}}"

# 2. C-STORE of 3 files, required contexts only (-R: the default would
#    propose 128 contexts, which is what manypc is for)
n0=$(qr_files)
run_scu store ok storescu -R -aet "$AE_MOD" -aec "$AE_QR" "$PACS_IP" "$PORT_QR" \
    "$F/small1.dcm" "$F/small2.dcm" "$F/small3.dcm"
n=$(($(qr_files) - n0))
note_check store $((n == 3)) "dcmqrscp stored $n file(s), expected 3"
manifest_row store "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_QR" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$SC\"],\"commands\":{\"C-STORE-RQ\":3,\"C-STORE-RSP\":3},\"statuses\":{\"success\":3}}"
N_STUDIES=$((N_PRELOAD + 3))

# 3. C-FIND, Study Root, STUDY level, universal match: one pending response
#    per study, then success
run_scu find ok findscu -S -aet "$AE_MOD" -aec "$AE_QR" \
    -k QueryRetrieveLevel=STUDY -k StudyInstanceUID -k PatientID "$PACS_IP" "$PORT_QR"
n=$(grep -c 'Find Response: .* (Pending' "$W/logs/find.out" || true)
note_check find $((n == N_STUDIES)) "findscu reports $n pending response(s), expected $N_STUDIES"
manifest_row find "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_QR" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\"],\"commands\":{\"C-FIND-RQ\":1,\"C-FIND-RSP\":$((N_STUDIES + 1))},\"statuses\":{\"pending\":$N_STUDIES,\"success\":1}}"

# 4. C-MOVE of one study (1 instance) to MOVEDEST, and the sub-operation
#    association dcmqrscp opens to the modality's storescp
n0=$(find "$W/out-move" -type f | wc -l)
run_scu move ok movescu -S -aet "$AE_MOD" -aec "$AE_QR" -aem "$AE_DEST" \
    -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$MOVE_STUDY" "$PACS_IP" "$PORT_QR"
n=$(($(find "$W/out-move" -type f | wc -l) - n0))
note_check move $((n == 1)) "storescp $AE_DEST received $n file(s), expected 1"
manifest_row move "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_QR" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\",\"$MOVE_STUDY_ROOT\"],\"commands\":{\"C-MOVE-RQ\":1},\"final_status\":\"success\",\"move_destinations\":[\"$AE_DEST\"],\"move_originators\":[]}"
manifest_row move-sub "$PACS_IP" "$PORT_MOVE" "$AE_QR" "$AE_DEST" "$SCU_OK" "sub-operations of move" \
    "{\"outcome\":\"released\",\"abstract_syntaxes_include\":[\"$SC\"],\"min_contexts\":100,\"min_rq_segments\":2,\"commands\":{\"C-STORE-RQ\":1,\"C-STORE-RSP\":1},\"statuses\":{\"success\":1},\"move_destinations\":[],\"move_originators\":[\"$AE_MOD\"]}"

# 5. 120 presentation contexts from a storescu profile, one file stored
n0=$(qr_files)
run_scu manypc ok storescu -aet "$AE_MOD" -aec "$AE_QR" -xf "$W/storescu-many.cfg" ManyContexts \
    "$PACS_IP" "$PORT_QR" "$F/small4.dcm"
n=$(($(qr_files) - n0))
note_check manypc $((n == 1)) "dcmqrscp stored $n file(s), expected 1"
manifest_row manypc "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_QR" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"released\",\"proposed\":\"profile\",\"min_contexts\":100,\"min_rq_segments\":2,\"commands\":{\"C-STORE-RQ\":1,\"C-STORE-RSP\":1},\"statuses\":{\"success\":1}}"

# 6. called AE title unknown to dcmqrscp: A-ASSOCIATE-RJ 1/1/7
run_scu reject fail echoscu -aet "$AE_MOD" -aec "$AE_WRONG" "$PACS_IP" "$PORT_QR"
n=$(grep -c "Association Rejected" "$W/logs/reject.out" || true)
note_check reject $((n >= 1)) "echoscu reports 'Association Rejected' $n time(s)"
manifest_row reject "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_WRONG" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"rejected\",\"abstract_syntaxes\":[\"$VERIF\"],\"reject\":[1,1,7],\"commands\":{},\"statuses\":{}}"

# 7. C-ECHO, then A-ABORT instead of a release
run_scu abort ok echoscu --abort -aet "$AE_MOD" -aec "$AE_QR" "$PACS_IP" "$PORT_QR"
manifest_row abort "$MOD_IP" "$PORT_QR" "$AE_MOD" "$AE_QR" "$SCU_OK" "$SCU_NOTE" \
    "{\"outcome\":\"aborted\",\"abstract_syntaxes\":[\"$VERIF\"],\"abort_source\":0,\"commands\":{\"C-ECHO-RQ\":1,\"C-ECHO-RSP\":1},\"statuses\":{\"success\":1}}"
NASSOC=$(($(wc -l <"$MANIFEST") - 1))

# ------------------------------------------------------------------ stop
sleep 0.5
if [[ -n "$PID_DICOMON" ]]; then
    have_all_flow_ends() {
        (($(grep -Ec '"event"[[:space:]]*:[[:space:]]*"flow_end"' "$EVENTS" || true) >= NASSOC))
    }
    e2e_wait_for 10 "$NASSOC flow_end events" have_all_flow_ends || true
    DICOMON_RC=0
    e2e_stop "$PID_DICOMON" INT 10 || DICOMON_RC=$?
    e2e_log "dicomon exited with status $DICOMON_RC"
fi
e2e_stop "$PID_TSHARK" INT 10 || true
if grep -qi 'dropped' "$W/logs/tshark.err"; then
    e2e_log "WARNING: tshark reports dropped packets: $(grep -i dropped "$W/logs/tshark.err")"
fi

# ------------------------------------------------------------------ ground truth
TRUTH=$W/tshark-assoc.jsonl
PAYLOAD=$W/tshark-payload.tsv
"${CHECK[@]}" extract --pcap "$PCAP" --ports "$PORT_QR,$PORT_MOVE" \
    --out "$TRUTH" --payload-out "$PAYLOAD" 2>"$W/logs/tshark-read.err" ||
    e2e_die "tshark could not read the capture: $(cat "$W/logs/tshark-read.err")"

ARGS=(--manifest "$MANIFEST" --tshark "$TRUTH" --payload "$PAYLOAD" --profile "$W/storescu-many.cfg")
e2e_log "traffic and capture done in $((SECONDS - T0))s (scratch: $W$([[ $E2E_KEEP == 1 ]] && echo ', kept'))"
# the checker's "assoc: N passed, M failed" is the last line printed (the
# cleanup trap says nothing unless --keep)
rc=0
if ((TRAFFIC_ONLY)); then
    "${CHECK[@]}" truth "${ARGS[@]}" || rc=$?
    exit "$rc"
fi
# The same capture through `dicomon replay`: its records against tshark, then
# field by field against what the live daemon said about the same associations.
REPLAY=$W/replay.jsonl
rrc=0
"$DICOMON" replay --json "$PCAP" >"$REPLAY" 2>"$W/logs/replay.err" || rrc=$?
e2e_log "dicomon replay of the capture (exit $rrc): against tshark"
"${CHECK[@]}" check "${ARGS[@]}" --replay "$PCAP" --events "$REPLAY" --dicomon-rc "$rrc" || rc=1
e2e_log "dicomon replay of the capture: the same records as the live daemon"
python3 "$HERE/compare_records.py" "$EVENTS" "$REPLAY" || rc=1
# the checker's "assoc: N passed, M failed" on the live daemon is the last line
"${CHECK[@]}" check "${ARGS[@]}" --events "$EVENTS" --dicomon-rc "$DICOMON_RC" || rc=$?
exit "$rc"
