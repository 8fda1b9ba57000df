#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# Ground-truth captures for `dicomon replay`: real DICOM software (DCMTK,
# Orthanc, nmap) in network namespaces, captured on the wire with dumpcap,
# one small capture per scenario group, each with a manifest of what the
# tools were told and the ports tshark needs. Every capture is checked with
# tshark (tests/e2e/check_assoc.py extract + truth) before it is written.
#
#   modality ns (NET.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (NET.6)
#     SCUs, MOVEDEST                NET.1              NET.5            SCPs
#
# Usage (as root):
#   tests/replay/make_captures.sh [--out DIR] [--only GROUP]... [--dicomon BIN] [--keep]
#     --out DIR      where to write GROUP.pcap[ng], GROUP.manifest.tsv, GROUP.ports
#                    (default: tests/replay/captures)
#     --only GROUP   make only this group (repeatable); the others stay as they are
#     --dicomon BIN  also run `BIN run` in the gateway while capturing, write its
#                    events to DIR/live/GROUP.events.jsonl and check them
#                    (check_assoc.py check); not part of the committed captures
#     --keep         keep the scratch dir (logs, extracts)
#   VLAN_TOGGLE_OBJ  (env) the tc program tagging the vlan group's links
#                    (default .output/tests/vlan_toggle.bpf.o, else built here)
#
# Groups (see tests/replay/README.md):
#   dcmtk-qr  dcmqrscp + DCMTK SCUs: echo, store (with a 300 KiB file), find,
#             move + its C-STORE sub-association, get, 120 contexts, reject, abort,
#             one association still open when the capture stops
#   tls       echoscu/storescu +tls against storescp +tls, a TLS 1.2 pair, a
#             cleartext echo (pcap)
#   ports     DICOM on 4242 (Orthanc), 10104 (storescp, 128 KiB PDUs), 33333
#             (Orthanc as SCU); Linux cooked v2 (SLL2)
#   nmap      nmap dicom-ping and dicom-brute; Linux cooked v1 (SLL, pcap)
#   dicomweb  Orthanc + DICOMweb plugin over HTTP: QIDO-RS, no association
#   ipv6      DCMTK over IPv6 through socat relays, move sub-association too (pcap)
#   vlan      DCMTK on 802.1Q-tagged links (VLAN 100)
# Every group also carries non-DICOM traffic (HTTP, plain TCP, UDP, ICMP).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$REPO/tests/e2e/lib.sh"

ALL_GROUPS=(dcmtk-qr tls ports nmap dicomweb ipv6 vlan)
OUT=$HERE/captures
ONLY=()
LIVE_DICOMON=""
while (($#)); do
    case $1 in
        --out) OUT=$2; shift ;;
        --only) ONLY+=("$2"); shift ;;
        --dicomon) LIVE_DICOMON=$2; shift ;;
        --keep) E2E_KEEP=1 ;;
        -h | --help)
            sed -n '/^# Ground-truth captures/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
            exit 0
            ;;
        *) e2e_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
for g in "${ONLY[@]}"; do
    [[ " ${ALL_GROUPS[*]} " == *" $g "* ]] || e2e_die "unknown group $g (groups: ${ALL_GROUPS[*]})"
done
((${#ONLY[@]})) || ONLY=("${ALL_GROUPS[@]}")

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, capture)"
e2e_need ip tc ss python3 dumpcap tshark echoscu storescu findscu movescu getscu storescp \
    dcmqrscp dcmqridx dcmodify dcmdump img2dcm openssl nmap socat curl ping taskset timeout env clang
ORTHANC=${ORTHANC:-/usr/sbin/Orthanc}
DICOMWEB_PLUGIN=${DICOMWEB_PLUGIN:-/usr/share/orthanc/plugins/libOrthancDicomWeb.so}
[[ -x $ORTHANC ]] || e2e_die "Orthanc not found: $ORTHANC (apt-get install orthanc)"
[[ -f $DICOMWEB_PLUGIN ]] || e2e_die "DICOMweb plugin not found: $DICOMWEB_PLUGIN (apt-get install orthanc-dicomweb)"
if [[ -n $LIVE_DICOMON ]]; then
    [[ -x $LIVE_DICOMON ]] || e2e_die "dicomon not executable: $LIVE_DICOMON"
    LIVE_DICOMON=$(realpath "$LIVE_DICOMON")
fi

# One CPU for everything this script starts: veth delivers a packet on the
# CPU that sent it, and a TCP sender running on two CPUs (the application's
# writes, ACK-clocked sends in softirq) gets its segments reordered on the
# gateway, which tshark reports as lost segments and retransmissions.
taskset -pc 0 $$ >/dev/null || e2e_log "note: cannot pin to CPU 0; segments may be reordered"

T0=$SECONDS
PFX="dmcap-$$"
CHECK=(python3 "$REPO/tests/e2e/check_assoc.py")
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/files" "$W/new"

AE_MOD=MODALITY1
VERIF=1.2.840.10008.1.1
SC=1.2.840.10008.5.1.4.1.1.7
FIND_STUDY=1.2.840.10008.5.1.4.1.2.2.1
MOVE_STUDY=1.2.840.10008.5.1.4.1.2.2.2
GET_STUDY=1.2.840.10008.5.1.4.1.2.2.3

# ------------------------------------------------------------------ fixtures
# Secondary-capture images (BMP -> img2dcm), each its own study:
#   small1..3  32x32 / 48x40 / 40x32 RGB      (3-6 KiB)
#   medium     160x160 RGB                    (75 KiB)
#   big        320x320 RGB                    (300 KiB: P-DATA over ~210 segments)
F=$W/files
e2e_log "generating DICOM files and a throwaway PKI in $W"
python3 - "$F" <<'PY'
import os, struct, sys
d = sys.argv[1]
def bmp(name, w, h, seed):
    row = (w * 3 + 3) & ~3
    pad = b"\0" * (row - w * 3)
    data = b"".join(bytes(b for x in range(w) for b in (
        (x * 7 + y + seed) & 255, (y * 3 + seed) & 255, (x ^ y ^ seed) & 255)) + pad for y in range(h))
    hdr = b"BM" + struct.pack("<IHHI", 54 + len(data), 0, 0, 54)
    dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    with open(os.path.join(d, name + ".bmp"), "wb") as f:
        f.write(hdr + dib + data)
for name, w, h, seed in (("small1", 32, 32, 1), ("small2", 48, 40, 2), ("small3", 40, 32, 3),
                         ("medium", 160, 160, 4), ("big", 320, 320, 5)):
    bmp(name, w, h, seed)
PY
for f in small1 small2 small3 medium big; do
    img2dcm -q -i BMP -k "PatientName=REPLAY^${f^^}" -k "PatientID=RPL-$f" \
        -k "StudyDescription=dicomon replay fixture" "$F/$f.bmp" "$F/$f.dcm"
    rm -f "$F/$f.bmp"
done
# copy SRC DST ID : DST = SRC with new study/series/instance UIDs
dcm_copy() {
    cp "$1" "$2"
    dcmodify -q -nb -gst -gse -gin -m "PatientID=RPL-$3" -m "PatientName=REPLAY^${3^^}" "$2"
}
dcm_copy "$F/small1.dcm" "$F/pre1.dcm" pre1
dcm_copy "$F/small2.dcm" "$F/pre2.dcm" pre2
dcm_copy "$F/small3.dcm" "$F/web.dcm" web
study_of() { dcmdump -q +P StudyInstanceUID "$1" | sed -n 's/.*\[\([0-9.]*\)\].*/\1/p'; }
e2e_make_pki "$W"
TLS_SRV=(+tls "$W/server.key" "$W/server.crt" -pw +cf "$W/ca.crt")
TLS_CLI=(+tls "$W/client.key" "$W/client.crt" -pw +cf "$W/ca.crt")
"${CHECK[@]}" profile --out "$W/storescu-many.cfg" --name ManyContexts
printf '<html><body>dicomon replay: plain HTTP next to DICOM</body></html>\n' >"$W/index.html"
python3 -c 'import sys; sys.stdout.write("".join("plain TCP line %05d, not DICOM\n" % i for i in range(700)))' \
    >"$W/plain.txt"

# ------------------------------------------------------------------ helpers

# topo TAG NET : modality -- gateway -- pacs for one group; sets NS_MOD NS_GW
# NS_PACS MOD_IP PACS_IP. MSS-sized TCP segments on every veth end.
topo() {
    local tag=$1 net=$2 nd ns dev
    NS_MOD="$PFX-$tag-mod" NS_GW="$PFX-$tag-gw" NS_PACS="$PFX-$tag-pacs"
    MOD_IP=$net.2 PACS_IP=$net.6
    e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" "$net"
    for nd in "$NS_MOD eth0" "$NS_GW gw-mod" "$NS_GW gw-pacs" "$NS_PACS eth0"; do
        read -r ns dev <<<"$nd"
        ip -n "$ns" link set dev "$dev" gso_max_segs 1 2>/dev/null ||
            e2e_log "note: cannot set gso_max_segs on $ns/$dev"
    done
}

# bg NAME NS CMD... : a server in NS (logs in $W/logs/GROUP-NAME.*)
bg() {
    local name=$1 ns=$2
    shift 2
    e2e_bg "$GROUP-$name" "$W/logs/$GROUP-$name.out" "$W/logs/$GROUP-$name.err" \
        ip netns exec "$ns" "$@"
    GROUP_PIDS+=("$E2E_LAST_PID")
}

# listening NS PORT NAME : wait for a server
listening() {
    e2e_wait_for 20 "$3 on :$2" e2e_port_listening "$1" "$2" ||
        e2e_die "$3 did not start: $(tail -n 5 "$W/logs/$GROUP-$3.err" "$W/logs/$GROUP-$3.out" 2>/dev/null)"
}

# cmdline ARGS... : the command as written into the manifest (scratch dir elided)
cmdline() {
    local s="$*"
    printf '%s' "${s//$W\//}"
}

# scu NS NAME EXPECT(ok|fail) CMD... : one client run; sets SCU_OK (1/0), SCU_NOTE
scu() {
    local ns=$1 name=$2 expect=$3 rc=0
    shift 3
    timeout 60 ip netns exec "$ns" "$@" >"$W/logs/$GROUP-$name.out" 2>&1 || rc=$?
    SCU_OK=1
    if [[ $expect == ok ]]; then
        ((rc == 0)) || SCU_OK=0
        SCU_NOTE="$(cmdline "$@"); rc=$rc"
    else
        ((rc != 0 && rc != 124)) || SCU_OK=0
        SCU_NOTE="$(cmdline "$@"); rc=$rc (failure expected)"
    fi
    if ((!SCU_OK)); then
        e2e_log "$GROUP/$name: unexpected exit status $rc; output:"
        sed 's/^/    /' "$W/logs/$GROUP-$name.out" >&2
    fi
}

# note_check OK MESSAGE : a tool-side check added to SCU_OK/SCU_NOTE
note_check() {
    SCU_NOTE="$SCU_NOTE; $2"
    if (($1 == 0)); then
        SCU_OK=0
        e2e_log "$GROUP: $2"
    fi
}

# row NAME INITIATOR DPORT CALLING CALLED EXPECT-JSON : one manifest row (an
# association, or with "kind":"http" an HTTP request), SCU_OK/SCU_NOTE as
# tool_ok/note
row() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$SCU_OK" "$SCU_NOTE" "$6" \
        >>"$MANIFEST"
}

# http NS NAME METHOD URL [CURL-ARGS...] : one curl request (its own
# connection); sets SCU_OK/SCU_NOTE and HTTP_BODY; the manifest row is the caller's
http() {
    local ns=$1 name=$2 method=$3 url=$4 code
    shift 4
    scu "$ns" "$name" ok curl -sS -X "$method" -o "$W/logs/$GROUP-$name.body" -w '%{http_code}' "$@" "$url"
    code=$(tail -c 3 "$W/logs/$GROUP-$name.out")
    HTTP_BODY=$(cat "$W/logs/$GROUP-$name.body")
    note_check "$([[ $code == 200 ]] && echo 1 || echo 0)" "HTTP status $code"
}
http_row() { # NAME INITIATOR PORT METHOD URI
    row "$1" "$2" "$3" - - "{\"kind\":\"http\",\"method\":\"$4\",\"uri\":\"$5\",\"status\":200}"
}

# noise NS DST [PORT_HTTP] : ICMP echo and a few UDP datagrams (not DICOM)
noise_ping() { ip netns exec "$1" ping -q -c 2 -i 0.2 -W 2 "$2" >/dev/null 2>&1 || e2e_log "$GROUP: ping $2 failed"; }
noise_udp() { # NS DST PORT
    local i
    for i in 1 2 3; do
        ip netns exec "$1" bash -c "echo 'dicomon replay: UDP datagram $i' >/dev/udp/$2/$3" 2>/dev/null || true
    done
}

# capture NS IFACE FORMAT(pcap|pcapng) [LINKTYPE] : dumpcap into $W/new/GROUP.FORMAT,
# returning once packets really land in the file (UDP probes to the pacs'
# closed port 9: not TCP, no ground truth sees them). Sets CAP_PID, CAP_FILE.
capture() {
    local ns=$1 dev=$2 fmt=$3 lt=${4:-} size0 args
    CAP_FILE=$W/new/$GROUP.$fmt
    args=(dumpcap -i "$dev" -B 64 -w "$CAP_FILE")
    [[ $fmt == pcap ]] && args+=(-P)
    [[ -n $lt ]] && args+=(-y "$lt")
    e2e_bg "$GROUP-dumpcap" "$W/logs/$GROUP-dumpcap.out" "$W/logs/$GROUP-dumpcap.err" \
        ip netns exec "$ns" "${args[@]}"
    CAP_PID=$E2E_LAST_PID
    _cap_ready() {
        e2e_alive "$CAP_PID" || e2e_die "dumpcap exited: $(cat "$W/logs/$GROUP-dumpcap.err")"
        grep -q "Capturing on" "$W/logs/$GROUP-dumpcap.err" && test -s "$CAP_FILE"
    }
    e2e_wait_for 20 "dumpcap on $ns/$dev" _cap_ready || e2e_die "dumpcap did not start"
    size0=$(stat -c %s "$CAP_FILE")
    _cap_live() {
        ip netns exec "$NS_MOD" bash -c "echo dicomon-capture-probe >/dev/udp/$PACS_IP/9" 2>/dev/null || true
        sleep 0.1
        (($(stat -c %s "$CAP_FILE" 2>/dev/null || echo 0) > size0))
    }
    e2e_wait_for 15 "first packet in the capture" _cap_live || e2e_die "dumpcap captures nothing on $dev"
    if [[ -n $LIVE_DICOMON ]]; then
        mkdir -p "$W/live"
        e2e_dicomon_start "$GROUP-dicomon" "$NS_GW" "$W/live/$GROUP.events.jsonl" \
            "$W/logs/$GROUP-dicomon.err" "$LIVE_DICOMON" run -i gw-mod -i gw-pacs --json \
            -o "table.status_socket=$W/$GROUP.sock"
        LIVE_PID=$E2E_DICOMON_PID
    fi
}

# group_begin NAME PORTS-LINES... : a new manifest; the ports sidecar lines
# ("dicom 11112 11113", "tls 2762", "http 8000")
group_begin() {
    GROUP=$1
    shift
    GROUP_T0=$SECONDS
    GROUP_PIDS=()
    LIVE_PID=""
    MANIFEST=$W/new/$GROUP.manifest.tsv
    printf 'name\tinitiator\tdport\tcalling_ae\tcalled_ae\ttool_ok\tnote\texpect\n' >"$MANIFEST"
    {
        printf '# ports of %s for tshark: PROTO PORT... (check_assoc.py extract --ports-file)\n' "$GROUP"
        printf '%s\n' "$@"
    } >"$W/new/$GROUP.ports"
    e2e_log "== $GROUP"
}

# group_end : stop the capture and the group's processes, delete its
# namespaces, check the capture against the manifest with tshark
group_end() {
    local pid ns rc=0 base=$W/$GROUP
    sleep 1 # last FINs, nmap's sockets closing
    if [[ -n $LIVE_PID ]]; then
        LIVE_RC=0
        e2e_stop "$LIVE_PID" INT 10 || LIVE_RC=$?
    fi
    e2e_stop "$CAP_PID" INT 10 || true
    if grep -E 'received/dropped' "$W/logs/$GROUP-dumpcap.err" | grep -qvE ': [0-9]+/0 '; then
        e2e_log "WARNING: $(grep -i dropped "$W/logs/$GROUP-dumpcap.err")"
    fi
    for pid in "${GROUP_PIDS[@]}"; do
        e2e_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${GROUP_PIDS[@]}"; do e2e_stop "$pid" TERM 3 >/dev/null 2>&1 || true; done
    for ns in "$NS_MOD" "$NS_GW" "$NS_PACS"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    "${CHECK[@]}" extract --pcap "$CAP_FILE" --ports-file "$W/new/$GROUP.ports" \
        --out "$base.tshark.jsonl" --payload-out "$base.payload.tsv" 2>"$W/logs/$GROUP-extract.err" ||
        e2e_die "$GROUP: tshark could not read the capture: $(cat "$W/logs/$GROUP-extract.err")"
    "${CHECK[@]}" truth --manifest "$MANIFEST" --tshark "$base.tshark.jsonl" \
        --payload "$base.payload.tsv" --profile "$W/storescu-many.cfg" >"$W/logs/$GROUP-truth.txt" || rc=$?
    if ((rc)); then
        grep -E '^(FAIL|note)' "$W/logs/$GROUP-truth.txt" >&2 || true
        e2e_die "$GROUP: the capture does not match what the tools were told ($(tail -n 1 "$W/logs/$GROUP-truth.txt"))"
    fi
    e2e_log "$GROUP: $(tail -n 1 "$W/logs/$GROUP-truth.txt"), $(stat -c %s "$CAP_FILE") bytes, $((SECONDS - GROUP_T0))s"
    if [[ -n $LIVE_PID ]]; then
        rc=0
        "${CHECK[@]}" check --manifest "$MANIFEST" --tshark "$base.tshark.jsonl" \
            --payload "$base.payload.tsv" --profile "$W/storescu-many.cfg" \
            --events "$W/live/$GROUP.events.jsonl" --dicomon-rc "$LIVE_RC" >"$W/logs/$GROUP-live.txt" || rc=$?
        e2e_log "$GROUP: live dicomon run: $(tail -n 1 "$W/logs/$GROUP-live.txt")"
        ((rc == 0)) || grep '^FAIL' "$W/logs/$GROUP-live.txt" | head -n 20 >&2 || true
    fi
}

# dcmqrscp_cfg FILE DBDIR PORT AE HOSTTABLE-LINES... : a Q/R archive knowing only AE
dcmqrscp_cfg() {
    local f=$1 db=$2 port=$3 ae=$4
    shift 4
    mkdir -p "$db"
    {
        printf 'NetworkTCPPort  = %s\nMaxPDUSize      = 16384\nMaxAssociations = 20\n\n' "$port"
        printf 'HostTable BEGIN\n'
        printf '%s\n' "$@"
        printf 'HostTable END\n\nVendorTable BEGIN\nVendorTable END\n\n'
        printf 'AETable BEGIN\n%s   %s   RW   (50, 64mb)   ANY\nAETable END\n' "$ae" "$db"
    } >"$f"
}

# orthanc_cfg FILE DB EXTRA-JSON : Orthanc on 8042 (HTTP) and 4242 (DICOM, AE ORTHANC)
orthanc_cfg() {
    cat >"$1" <<JSON
{
  "Name": "dicomon-replay",
  "StorageDirectory": "$2",
  "IndexDirectory": "$2",
  "HttpPort": 8042,
  "DicomPort": 4242,
  "DicomAet": "ORTHANC",
  "RemoteAccessAllowed": true,
  "AuthenticationEnabled": false,
  "DicomAssociationCloseDelay": 0,
  $3
}
JSON
}

ECHO_OK='"outcome":"released","abstract_syntaxes":["'$VERIF'"],"commands":{"C-ECHO-RQ":1,"C-ECHO-RSP":1},"statuses":{"success":1}'
store_ok() { # N [ABSTRACT] : a released association with N successful C-STOREs
    printf '"outcome":"released","abstract_syntaxes_include":["%s"],"commands":{"C-STORE-RQ":%d,"C-STORE-RSP":%d},"statuses":{"success":%d}' \
        "${2:-$SC}" "$1" "$1" "$1"
}
REJECT_7='"outcome":"rejected","abstract_syntaxes":["'$VERIF'"],"reject":[1,1,7],"commands":{},"statuses":{}'
ABORT_OK='"outcome":"aborted","abstract_syntaxes":["'$VERIF'"],"abort_source":0,"commands":{"C-ECHO-RQ":1,"C-ECHO-RSP":1},"statuses":{"success":1}'

# ================================================================== groups

# dcmtk-qr: a Q/R archive (dcmqrscp PACS_QR :11112, 2 studies registered
# before the capture) and the modality's storescp MOVEDEST :11113.
group_dcmtk_qr() {
    group_begin dcmtk-qr "dicom 11112 11113" "http 8000"
    topo qr 10.231.0
    local db=$W/qr-db n n0 s
    dcmqrscp_cfg "$W/qr.cfg" "$db" 11112 PACS_QR "movedest = (MOVEDEST, $MOD_IP, 11113)"
    cp "$F/pre1.dcm" "$F/pre2.dcm" "$db/"
    dcmqridx -q "$db" "$db/pre1.dcm" "$db/pre2.dcm" || e2e_die "dcmqridx failed"
    mkdir -p "$W/qr-move" "$W/qr-get"
    bg dcmqrscp "$NS_PACS" dcmqrscp -c "$W/qr.cfg" 11112
    bg storescp "$NS_MOD" storescp --aetitle MOVEDEST -od "$W/qr-move" 11113
    bg http "$NS_PACS" python3 -m http.server 8000 --bind "$PACS_IP" --directory "$W"
    listening "$NS_PACS" 11112 dcmqrscp
    listening "$NS_MOD" 11113 storescp
    listening "$NS_PACS" 8000 http
    capture "$NS_GW" gw-pacs pcapng
    qr_files() { find "$db" -maxdepth 1 -type f -name '*.dcm' | wc -l; }
    noise_ping "$NS_MOD" "$PACS_IP"

    scu "$NS_MOD" echo ok echoscu -aet "$AE_MOD" -aec PACS_QR "$PACS_IP" 11112
    row echo "$MOD_IP" 11112 "$AE_MOD" PACS_QR "{$ECHO_OK}"

    http "$NS_MOD" http-index GET "http://$PACS_IP:8000/index.html"
    http_row http-index "$MOD_IP" 8000 GET /index.html

    n0=$(qr_files)
    scu "$NS_MOD" store ok storescu -R -aet "$AE_MOD" -aec PACS_QR "$PACS_IP" 11112 \
        "$F/small1.dcm" "$F/big.dcm" "$F/small2.dcm"
    n=$(($(qr_files) - n0))
    note_check $((n == 3)) "dcmqrscp stored $n file(s), expected 3"
    row store "$MOD_IP" 11112 "$AE_MOD" PACS_QR "{$(store_ok 3),\"abstract_syntaxes\":[\"$SC\"]}"

    scu "$NS_MOD" find ok findscu -S -aet "$AE_MOD" -aec PACS_QR -k QueryRetrieveLevel=STUDY \
        -k StudyInstanceUID -k PatientID "$PACS_IP" 11112
    n=$(grep -c 'Find Response: .* (Pending' "$W/logs/$GROUP-find.out" || true)
    note_check $((n == 5)) "findscu reports $n pending response(s), expected 5"
    row find "$MOD_IP" 11112 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\"],\"commands\":{\"C-FIND-RQ\":1,\"C-FIND-RSP\":6},\"statuses\":{\"pending\":5,\"success\":1}}"

    noise_udp "$NS_MOD" "$PACS_IP" 5000

    s=$(study_of "$F/pre1.dcm")
    scu "$NS_MOD" move ok movescu -S -aet "$AE_MOD" -aec PACS_QR -aem MOVEDEST \
        -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$s" "$PACS_IP" 11112
    n=$(find "$W/qr-move" -type f | wc -l)
    note_check $((n == 1)) "storescp MOVEDEST received $n file(s), expected 1"
    row move "$MOD_IP" 11112 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\",\"$MOVE_STUDY\"],\"commands\":{\"C-MOVE-RQ\":1},\"final_status\":\"success\",\"move_destinations\":[\"MOVEDEST\"],\"move_originators\":[]}"
    SCU_NOTE="C-STORE sub-operation association dcmqrscp opens for the move"
    row move-sub "$PACS_IP" 11113 PACS_QR MOVEDEST \
        "{$(store_ok 1),\"min_contexts\":100,\"min_rq_segments\":2,\"move_destinations\":[],\"move_originators\":[\"$AE_MOD\"]}"

    s=$(study_of "$F/pre2.dcm")
    scu "$NS_MOD" get ok getscu -S -aet "$AE_MOD" -aec PACS_QR -od "$W/qr-get" \
        -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$s" "$PACS_IP" 11112
    n=$(find "$W/qr-get" -type f | wc -l)
    note_check $((n == 1)) "getscu received $n file(s), expected 1"
    row get "$MOD_IP" 11112 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"released\",\"abstract_syntaxes_include\":[\"$GET_STUDY\",\"$SC\"],\"commands\":{\"C-GET-RQ\":1,\"C-STORE-RQ\":1},\"final_status\":\"success\",\"move_destinations\":[],\"move_originators\":[]}"

    n0=$(qr_files)
    scu "$NS_MOD" manypc ok storescu -aet "$AE_MOD" -aec PACS_QR -xf "$W/storescu-many.cfg" ManyContexts \
        "$PACS_IP" 11112 "$F/small3.dcm"
    n=$(($(qr_files) - n0))
    note_check $((n == 1)) "dcmqrscp stored $n file(s), expected 1"
    row manypc "$MOD_IP" 11112 "$AE_MOD" PACS_QR \
        "{$(store_ok 1),\"proposed\":\"profile\",\"min_contexts\":100,\"min_rq_segments\":2}"

    scu "$NS_MOD" reject fail echoscu -aet "$AE_MOD" -aec WRONG_AE "$PACS_IP" 11112
    n=$(grep -c "Association Rejected" "$W/logs/$GROUP-reject.out" || true)
    note_check $((n >= 1)) "echoscu reports 'Association Rejected' $n time(s)"
    row reject "$MOD_IP" 11112 "$AE_MOD" WRONG_AE "{$REJECT_7}"

    scu "$NS_MOD" abort ok echoscu --abort -aet "$AE_MOD" -aec PACS_QR "$PACS_IP" 11112
    row abort "$MOD_IP" 11112 "$AE_MOD" PACS_QR "{$ABORT_OK}"

    # Still open when the capture stops: associated, then waiting (the test
    # suite's slowscu.py, killed by group_end after the capture has stopped)
    bg slowscu "$NS_MOD" python3 "$REPO/tests/e2e/slowscu.py" "$PACS_IP" 11112 \
        "$W/qr-slow.state" "$W/qr-slow.go" PACS_QR "$AE_MOD"
    _slow_associated() { grep -qs associated "$W/qr-slow.state"; }
    SCU_OK=1
    e2e_wait_for 10 "slowscu associated" _slow_associated || SCU_OK=0
    SCU_NOTE="tests/e2e/slowscu.py $PACS_IP 11112 STATE GO PACS_QR $AE_MOD: A-ASSOCIATE-RQ/AC, then held open until after the capture stopped"
    row open-at-end "$MOD_IP" 11112 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"accepted\",\"abstract_syntaxes\":[\"$VERIF\"],\"commands\":{},\"statuses\":{},\"open_at_end\":true}"
    group_end
}

# tls: storescp +tls PACS_TLS :2762 (default profile, BCP 195 non-downgrading),
# storescp +tls +px PACS_TLS12 :11112 (BCP 195), storescp PACS_SCP :104
# (cleartext). TLS rows: what the tools were told; tshark sees the hellos only.
group_tls() {
    group_begin tls "dicom 104" "tls 2762 11112"
    topo tls 10.231.1
    mkdir -p "$W/tls-in"
    bg storescp-tls "$NS_PACS" storescp --aetitle PACS_TLS -od "$W/tls-in" "${TLS_SRV[@]}" 2762
    bg storescp-tls12 "$NS_PACS" storescp --aetitle PACS_TLS12 -od "$W/tls-in" "${TLS_SRV[@]}" +px 11112
    bg storescp "$NS_PACS" storescp --aetitle PACS_SCP -od "$W/tls-in" 104
    listening "$NS_PACS" 2762 storescp-tls
    listening "$NS_PACS" 11112 storescp-tls12
    listening "$NS_PACS" 104 storescp
    capture "$NS_GW" gw-pacs pcap
    local n tls13='"transport":"tls","tls_offered":"TLS1.3","tls_selected":"TLS1.3"'

    scu "$NS_MOD" tls-echo ok echoscu -aet "$AE_MOD" -aec PACS_TLS "${TLS_CLI[@]}" "$PACS_IP" 2762
    row tls-echo "$MOD_IP" 2762 "$AE_MOD" PACS_TLS "{$tls13,\"told\":{$ECHO_OK}}"

    scu "$NS_MOD" tls-store ok storescu -R -aet "$AE_MOD" -aec PACS_TLS "${TLS_CLI[@]}" "$PACS_IP" 2762 \
        "$F/medium.dcm" "$F/small1.dcm"
    n=$(find "$W/tls-in" -type f | wc -l)
    note_check $((n == 2)) "storescp PACS_TLS received $n file(s), expected 2"
    row tls-store "$MOD_IP" 2762 "$AE_MOD" PACS_TLS "{$tls13,\"told\":{$(store_ok 2)}}"

    noise_ping "$NS_MOD" "$PACS_IP"
    scu "$NS_MOD" clear-echo ok echoscu -aet "$AE_MOD" -aec PACS_SCP "$PACS_IP" 104
    row clear-echo "$MOD_IP" 104 "$AE_MOD" PACS_SCP "{$ECHO_OK}"

    # the retired AES profile: a ClientHello without supported_versions, TLS 1.2
    scu "$NS_MOD" tls12-echo ok echoscu -aet "$AE_MOD" -aec PACS_TLS12 "${TLS_CLI[@]}" +pa "$PACS_IP" 11112
    row tls12-echo "$MOD_IP" 11112 "$AE_MOD" PACS_TLS12 \
        "{\"transport\":\"tls\",\"tls_offered\":\"TLS1.2\",\"tls_selected\":\"TLS1.2\",\"told\":{$ECHO_OK}}"
    noise_udp "$NS_MOD" "$PACS_IP" 5000
    group_end
}

# ports: Orthanc (ORTHANC, DICOM :4242, HTTP :8042) and storescp ODD_SCP
# :10104 (128 KiB PDUs) on the pacs; storescp MOD_SCP :33333 on the modality,
# the destination of Orthanc's own C-ECHO and C-STORE (REST calls over HTTP).
# Captured in the pacs namespace with `-i any`: Linux cooked v2 (SLL2).
group_ports() {
    group_begin ports "dicom 4242 10104 33333" "http 8042"
    topo ports 10.231.2
    mkdir -p "$W/ports-in" "$W/ports-mod"
    orthanc_cfg "$W/ports-orthanc.json" "$W/ports-orthanc" \
        "\"DicomModalities\": {\"moddest\": [\"MOD_SCP\", \"$MOD_IP\", 33333]}"
    bg orthanc "$NS_PACS" "$ORTHANC" "$W/ports-orthanc.json"
    bg storescp-odd "$NS_PACS" storescp --aetitle ODD_SCP --max-pdu 131072 -od "$W/ports-in" 10104
    bg storescp-mod "$NS_MOD" storescp --aetitle MOD_SCP -od "$W/ports-mod" 33333
    bg plain "$NS_PACS" socat -u TCP4-LISTEN:9000,reuseaddr OPEN:/dev/null
    listening "$NS_PACS" 4242 orthanc
    listening "$NS_PACS" 8042 orthanc
    listening "$NS_PACS" 10104 storescp-odd
    listening "$NS_MOD" 33333 storescp-mod
    listening "$NS_PACS" 9000 plain
    capture "$NS_PACS" any pcapng LINUX_SLL2
    local id n

    scu "$NS_MOD" echo-4242 ok echoscu -aet "$AE_MOD" -aec ORTHANC "$PACS_IP" 4242
    row echo-4242 "$MOD_IP" 4242 "$AE_MOD" ORTHANC "{$ECHO_OK}"

    scu "$NS_MOD" store-4242 ok storescu -R -aet "$AE_MOD" -aec ORTHANC "$PACS_IP" 4242 "$F/medium.dcm"
    row store-4242 "$MOD_IP" 4242 "$AE_MOD" ORTHANC "{$(store_ok 1)}"

    scu "$NS_MOD" echo-10104 ok echoscu -aet "$AE_MOD" -aec ODD_SCP "$PACS_IP" 10104
    row echo-10104 "$MOD_IP" 10104 "$AE_MOD" ODD_SCP "{$ECHO_OK}"

    scu "$NS_MOD" plain-tcp ok socat -u "OPEN:$W/plain.txt" "TCP4:$PACS_IP:9000"

    scu "$NS_MOD" store-10104 ok storescu -R -aet "$AE_MOD" -aec ODD_SCP "$PACS_IP" 10104 \
        "$F/medium.dcm" "$F/small2.dcm"
    n=$(find "$W/ports-in" -type f | wc -l)
    note_check $((n == 2)) "storescp ODD_SCP received $n file(s), expected 2"
    row store-10104 "$MOD_IP" 10104 "$AE_MOD" ODD_SCP "{$(store_ok 2)}"

    http "$NS_MOD" rest-echo POST "http://$PACS_IP:8042/modalities/moddest/echo" --data-binary '{}'
    http_row rest-echo "$MOD_IP" 8042 POST /modalities/moddest/echo
    # Orthanc proposes Verification and four Q/R SOP classes; storescp accepts Verification only
    row orthanc-echo "$PACS_IP" 33333 ORTHANC MOD_SCP \
        "{\"outcome\":\"released\",\"abstract_syntaxes_include\":[\"$VERIF\"],\"commands\":{\"C-ECHO-RQ\":1,\"C-ECHO-RSP\":1},\"statuses\":{\"success\":1}}"

    http "$NS_MOD" rest-instances GET "http://$PACS_IP:8042/instances"
    http_row rest-instances "$MOD_IP" 8042 GET /instances
    id=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(v[0] if len(v) == 1 else "")' "$HTTP_BODY")
    [[ -n $id ]] || e2e_die "ports: Orthanc does not hold exactly one instance: $HTTP_BODY"
    http "$NS_MOD" rest-store POST "http://$PACS_IP:8042/modalities/moddest/store" --data-binary "$id"
    n=$(find "$W/ports-mod" -type f | wc -l)
    note_check $((n == 1)) "storescp MOD_SCP received $n file(s), expected 1"
    http_row rest-store "$MOD_IP" 8042 POST /modalities/moddest/store
    row orthanc-store "$PACS_IP" 33333 ORTHANC MOD_SCP "{$(store_ok 1)}"

    noise_ping "$NS_MOD" "$PACS_IP"
    noise_udp "$NS_MOD" "$PACS_IP" 5000
    group_end
}

# nmap: storescp PACS_SCP :11112 (accepts any called AE) and dcmqrscp PACS_QR
# :104 (only PACS_QR) on the pacs; nmap dicom-ping and dicom-brute from the
# modality. dicom-brute runs up to 5 threads: its associations are paired on
# the called AE title, not in start order. nmap's port scan (a SYN, no
# payload) is no association. Captured with `-i any` in the pacs namespace,
# Linux cooked v1 (SLL), pcap.
group_nmap() {
    group_begin nmap "dicom 104 11112"
    topo nmap 10.231.3
    local guesses=(ADMIN PACS DICOM PACS_QR ORTHANC STORESCP ARCHIVE RADIOLOGY) g fp='"fingerprint":"nmap"'
    dcmqrscp_cfg "$W/nmap-qr.cfg" "$W/nmap-db" 104 PACS_QR
    mkdir -p "$W/nmap-in"
    bg storescp "$NS_PACS" storescp --aetitle PACS_SCP -od "$W/nmap-in" 11112
    bg dcmqrscp "$NS_PACS" dcmqrscp -c "$W/nmap-qr.cfg" 104
    listening "$NS_PACS" 11112 storescp
    listening "$NS_PACS" 104 dcmqrscp
    printf '%s\n' "${guesses[@]}" >"$W/nmap-passdb.txt"
    capture "$NS_PACS" any pcap LINUX_SLL

    scu "$NS_MOD" echo ok echoscu -aet "$AE_MOD" -aec PACS_SCP "$PACS_IP" 11112
    row echo "$MOD_IP" 11112 "$AE_MOD" PACS_SCP "{$ECHO_OK}"

    scu "$NS_MOD" ping ok nmap -Pn -n -p 11112 --script dicom-ping "$PACS_IP"
    note_check "$(grep -qF 'Any AET is accepted' "$W/logs/$GROUP-ping.out" && echo 1 || echo 0)" \
        "nmap: Any AET is accepted"
    row dicom-ping "$MOD_IP" 11112 ECHOSCU ANY-SCP \
        "{\"outcome\":\"accepted\",\"abstract_syntaxes\":[\"$VERIF\"],\"commands\":{},\"statuses\":{},$fp}"

    scu "$NS_MOD" brute ok nmap -Pn -n -p 104 --script dicom-brute \
        --script-args "passdb=$W/nmap-passdb.txt" "$PACS_IP"
    note_check "$(grep -qF 'PACS_QR - Valid credentials' "$W/logs/$GROUP-brute.out" && echo 1 || echo 0)" \
        "nmap: PACS_QR - Valid credentials"
    # the engine's check first (called AE ANY-SCP), then one association per guess
    row brute-check "$MOD_IP" 104 ECHOSCU ANY-SCP "{$REJECT_7,$fp,\"pair_on\":\"called_ae\"}"
    for g in "${guesses[@]}"; do
        if [[ $g == PACS_QR ]]; then
            row "brute-$g" "$MOD_IP" 104 ECHOSCU "$g" \
                "{\"outcome\":\"accepted\",\"abstract_syntaxes\":[\"$VERIF\"],\"commands\":{},\"statuses\":{},$fp,\"pair_on\":\"called_ae\"}"
        else
            row "brute-$g" "$MOD_IP" 104 ECHOSCU "$g" "{$REJECT_7,$fp,\"pair_on\":\"called_ae\"}"
        fi
    done
    noise_ping "$NS_MOD" "$PACS_IP"
    group_end
}

# dicomweb: Orthanc with the DICOMweb plugin on :8042; one instance uploaded
# over its REST API before the capture. Only HTTP in the capture.
group_dicomweb() {
    group_begin dicomweb "http 8042"
    topo web 10.231.4
    orthanc_cfg "$W/web-orthanc.json" "$W/web-orthanc" \
        "\"Plugins\": [\"$DICOMWEB_PLUGIN\"], \"DicomWeb\": {\"Enable\": true, \"Root\": \"/dicom-web/\"}"
    bg orthanc "$NS_PACS" "$ORTHANC" "$W/web-orthanc.json"
    listening "$NS_PACS" 8042 orthanc
    timeout 30 ip netns exec "$NS_MOD" curl -sS -o /dev/null -X POST --data-binary "@$F/web.dcm" \
        "http://$PACS_IP:8042/instances" || e2e_die "dicomweb: upload to Orthanc failed"
    local suid
    suid=$(study_of "$F/web.dcm")
    capture "$NS_GW" gw-pacs pcapng

    http "$NS_MOD" qido-name GET "http://$PACS_IP:8042/dicom-web/studies?PatientName=REPLAY*"
    note_check "$(grep -qF "$suid" <<<"$HTTP_BODY" && echo 1 || echo 0)" "QIDO-RS answer names the study"
    http_row qido-name "$MOD_IP" 8042 GET "/dicom-web/studies?PatientName=REPLAY*"
    http "$NS_MOD" qido GET "http://$PACS_IP:8042/dicom-web/studies"
    http_row qido "$MOD_IP" 8042 GET /dicom-web/studies
    http "$NS_MOD" wado-series GET "http://$PACS_IP:8042/dicom-web/studies/$suid/series"
    http_row wado-series "$MOD_IP" 8042 GET "/dicom-web/studies/$suid/series"
    http "$NS_MOD" explorer GET "http://$PACS_IP:8042/app/explorer.html"
    http_row explorer "$MOD_IP" 8042 GET /app/explorer.html
    noise_ping "$NS_MOD" "$PACS_IP"
    group_end
}

# ipv6: DCMTK speaks IPv4 only, so socat relays carry it over IPv6:
#   modality: SCU -> 127.0.0.1:104 -> socat -> [pacs6]:104 ==wire==> socat -> dcmqrscp 127.0.0.1:11112
#   pacs:     dcmqrscp's move sub-association -> 127.0.0.1:11113 -> socat -> [mod6]:11113
#             ==wire==> socat -> storescp MOVEDEST 127.0.0.1:11114
group_ipv6() {
    group_begin ipv6 "dicom 104 11113"
    topo v6 10.231.5
    local m6=fd00:dc:5:1::2 g6m=fd00:dc:5:1::1 g6p=fd00:dc:5:2::1 p6=fd00:dc:5:2::2 ns nd dev n s
    for ns in "$NS_MOD" "$NS_GW" "$NS_PACS"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
            net.ipv6.conf.lo.disable_ipv6=0
    done
    # no DAD: the link-local addresses are usable at once (ND needs them)
    for nd in "$NS_MOD eth0" "$NS_GW gw-mod" "$NS_GW gw-pacs" "$NS_PACS eth0"; do
        read -r ns dev <<<"$nd"
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" "net.ipv6.conf.$dev.disable_ipv6=0"
    done
    ip netns exec "$NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=1
    ip -n "$NS_MOD" -6 addr add "$m6/64" dev eth0 nodad
    ip -n "$NS_GW" -6 addr add "$g6m/64" dev gw-mod nodad
    ip -n "$NS_GW" -6 addr add "$g6p/64" dev gw-pacs nodad
    ip -n "$NS_PACS" -6 addr add "$p6/64" dev eth0 nodad
    ip -n "$NS_MOD" -6 route add fd00:dc:5:2::/64 via "$g6m"
    ip -n "$NS_PACS" -6 route add fd00:dc:5:1::/64 via "$g6p"
    local db=$W/v6-db
    dcmqrscp_cfg "$W/v6.cfg" "$db" 11112 PACS_QR "movedest = (MOVEDEST, 127.0.0.1, 11113)"
    cp "$F/pre1.dcm" "$db/"
    dcmqridx -q "$db" "$db/pre1.dcm" || e2e_die "dcmqridx failed"
    mkdir -p "$W/v6-move"
    bg dcmqrscp "$NS_PACS" dcmqrscp -c "$W/v6.cfg" 11112
    bg storescp "$NS_MOD" storescp --aetitle MOVEDEST -od "$W/v6-move" 11114
    bg relay-qr-cli "$NS_MOD" socat TCP4-LISTEN:104,bind=127.0.0.1,fork,reuseaddr "TCP6:[$p6]:104"
    bg relay-qr-srv "$NS_PACS" socat TCP6-LISTEN:104,fork,reuseaddr TCP4:127.0.0.1:11112
    bg relay-mv-cli "$NS_PACS" socat TCP4-LISTEN:11113,bind=127.0.0.1,fork,reuseaddr "TCP6:[$m6]:11113"
    bg relay-mv-srv "$NS_MOD" socat TCP6-LISTEN:11113,fork,reuseaddr TCP4:127.0.0.1:11114
    listening "$NS_PACS" 11112 dcmqrscp
    listening "$NS_MOD" 11114 storescp
    listening "$NS_MOD" 104 relay-qr-cli
    listening "$NS_PACS" 104 relay-qr-srv
    listening "$NS_PACS" 11113 relay-mv-cli
    listening "$NS_MOD" 11113 relay-mv-srv
    _v6_path() { ip netns exec "$NS_MOD" ping -6 -q -c 1 -W 1 "$p6" >/dev/null 2>&1; }
    e2e_wait_for 10 "IPv6 path modality -> pacs" _v6_path || e2e_die "ipv6: no IPv6 path modality -> pacs"
    capture "$NS_GW" gw-pacs pcap

    scu "$NS_MOD" echo ok echoscu -aet "$AE_MOD" -aec PACS_QR 127.0.0.1 104
    row echo "$m6" 104 "$AE_MOD" PACS_QR "{$ECHO_OK}"
    scu "$NS_MOD" store ok storescu -R -aet "$AE_MOD" -aec PACS_QR 127.0.0.1 104 "$F/medium.dcm" "$F/small2.dcm"
    row store "$m6" 104 "$AE_MOD" PACS_QR "{$(store_ok 2),\"abstract_syntaxes\":[\"$SC\"]}"
    scu "$NS_MOD" find ok findscu -S -aet "$AE_MOD" -aec PACS_QR -k QueryRetrieveLevel=STUDY \
        -k StudyInstanceUID 127.0.0.1 104
    n=$(grep -c 'Find Response: .* (Pending' "$W/logs/$GROUP-find.out" || true)
    note_check $((n == 3)) "findscu reports $n pending response(s), expected 3"
    row find "$m6" 104 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\"],\"commands\":{\"C-FIND-RQ\":1,\"C-FIND-RSP\":4},\"statuses\":{\"pending\":3,\"success\":1}}"
    s=$(study_of "$F/pre1.dcm")
    scu "$NS_MOD" move ok movescu -S -aet "$AE_MOD" -aec PACS_QR -aem MOVEDEST \
        -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$s" 127.0.0.1 104
    n=$(find "$W/v6-move" -type f | wc -l)
    note_check $((n == 1)) "storescp MOVEDEST received $n file(s), expected 1"
    row move "$m6" 104 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\",\"$MOVE_STUDY\"],\"commands\":{\"C-MOVE-RQ\":1},\"final_status\":\"success\",\"move_destinations\":[\"MOVEDEST\"],\"move_originators\":[]}"
    SCU_NOTE="C-STORE sub-operation association dcmqrscp opens for the move (relayed)"
    row move-sub "$p6" 11113 PACS_QR MOVEDEST \
        "{$(store_ok 1),\"min_contexts\":100,\"move_destinations\":[],\"move_originators\":[\"$AE_MOD\"]}"
    ip netns exec "$NS_MOD" ping -6 -q -c 2 -i 0.2 -W 2 "$p6" >/dev/null 2>&1 || true
    scu "$NS_MOD" reject fail echoscu -aet "$AE_MOD" -aec WRONG_AE 127.0.0.1 104
    row reject "$m6" 104 "$AE_MOD" WRONG_AE "{$REJECT_7}"
    scu "$NS_MOD" abort ok echoscu --abort -aet "$AE_MOD" -aec PACS_QR 127.0.0.1 104
    row abort "$m6" 104 "$AE_MOD" PACS_QR "{$ABORT_OK}"
    noise_udp "$NS_MOD" "$PACS_IP" 5000
    group_end
}

# vlan: every veth end pushes VLAN 100 on egress and pops it on ingress
# (vlan_toggle.bpf.o, out of band like NIC offload); dumpcap writes the tag
# into the frames it captures on gw-pacs. storescp PACS_SCP :11112 and
# dcmqrscp PACS_QR :104 on the pacs.
group_vlan() {
    group_begin vlan "dicom 104 11112" "http 8000"
    topo vlan 10.231.6
    local ns nd dev dir vl='"vlan":[100]'
    for nd in "$NS_MOD eth0" "$NS_GW gw-mod" "$NS_GW gw-pacs" "$NS_PACS eth0"; do
        read -r ns dev <<<"$nd"
        tc -n "$ns" qdisc add dev "$dev" clsact
        for dir in ingress egress; do
            tc -n "$ns" filter add dev "$dev" "$dir" bpf direct-action obj "$TOGGLE" sec tc
        done
    done
    dcmqrscp_cfg "$W/vlan-qr.cfg" "$W/vlan-db" 104 PACS_QR
    cp "$F/pre1.dcm" "$W/vlan-db/"
    dcmqridx -q "$W/vlan-db" "$W/vlan-db/pre1.dcm" || e2e_die "dcmqridx failed"
    mkdir -p "$W/vlan-in"
    bg storescp "$NS_PACS" storescp --aetitle PACS_SCP -od "$W/vlan-in" 11112
    bg dcmqrscp "$NS_PACS" dcmqrscp -c "$W/vlan-qr.cfg" 104
    bg http "$NS_PACS" python3 -m http.server 8000 --bind "$PACS_IP" --directory "$W"
    listening "$NS_PACS" 11112 storescp
    listening "$NS_PACS" 104 dcmqrscp
    listening "$NS_PACS" 8000 http
    capture "$NS_GW" gw-pacs pcapng

    scu "$NS_MOD" echo ok echoscu -aet "$AE_MOD" -aec PACS_SCP "$PACS_IP" 11112
    row echo "$MOD_IP" 11112 "$AE_MOD" PACS_SCP "{$ECHO_OK,$vl}"
    scu "$NS_MOD" store ok storescu -R -aet "$AE_MOD" -aec PACS_SCP "$PACS_IP" 11112 "$F/medium.dcm" "$F/small1.dcm"
    row store "$MOD_IP" 11112 "$AE_MOD" PACS_SCP "{$(store_ok 2),$vl}"
    http "$NS_MOD" http-index GET "http://$PACS_IP:8000/index.html"
    http_row http-index "$MOD_IP" 8000 GET /index.html
    scu "$NS_MOD" find ok findscu -S -aet "$AE_MOD" -aec PACS_QR -k QueryRetrieveLevel=STUDY \
        -k StudyInstanceUID "$PACS_IP" 104
    row find "$MOD_IP" 104 "$AE_MOD" PACS_QR \
        "{\"outcome\":\"released\",\"abstract_syntaxes\":[\"$FIND_STUDY\"],\"commands\":{\"C-FIND-RQ\":1,\"C-FIND-RSP\":2},\"statuses\":{\"pending\":1,\"success\":1},$vl}"
    scu "$NS_MOD" reject fail echoscu -aet "$AE_MOD" -aec WRONG_AE "$PACS_IP" 104
    row reject "$MOD_IP" 104 "$AE_MOD" WRONG_AE "{$REJECT_7,$vl}"
    scu "$NS_MOD" abort ok echoscu --abort -aet "$AE_MOD" -aec PACS_SCP "$PACS_IP" 11112
    row abort "$MOD_IP" 11112 "$AE_MOD" PACS_SCP "{$ABORT_OK,$vl}"
    noise_ping "$NS_MOD" "$PACS_IP"
    noise_udp "$NS_MOD" "$PACS_IP" 5000
    group_end
    local untagged
    untagged=$(tshark -n -r "$CAP_FILE" -Y 'tcp && !vlan' 2>/dev/null | wc -l)
    ((untagged == 0)) || e2e_die "vlan: $untagged TCP frame(s) in the capture without an 802.1Q tag"
}

# The VLAN toggler: the Makefile's object if there, else built here.
TOGGLE=${VLAN_TOGGLE_OBJ:-$REPO/.output/tests/vlan_toggle.bpf.o}
if [[ " ${ONLY[*]} " == *" vlan "* && ! -r $TOGGLE ]]; then
    TOGGLE=$W/vlan_toggle.bpf.o
    clang -g -O2 -target bpf -mcpu=v3 -I"$REPO/vmlinux" -c "$REPO/tests/e2e/vlan_toggle.bpf.c" -o "$TOGGLE" ||
        e2e_die "cannot build the VLAN toggler"
fi

for g in "${ONLY[@]}"; do
    "group_${g//-/_}"
done

# All groups passed: replace them in the output directory.
mkdir -p "$OUT"
for g in "${ONLY[@]}"; do
    rm -f "$OUT/$g.pcap" "$OUT/$g.pcapng" "$OUT/$g.manifest.tsv" "$OUT/$g.ports"
    cp "$W/new/$g".* "$OUT/"
    chmod 0644 "$OUT/$g".*
    if [[ -n $LIVE_DICOMON ]]; then
        mkdir -p "$OUT/live"
        cp "$W/live/$g.events.jsonl" "$OUT/live/"
    fi
done
e2e_log "wrote ${#ONLY[@]} capture(s) to $OUT in $((SECONDS - T0))s:"
for g in "${ONLY[@]}"; do
    printf '  %-10s %8d bytes  %s\n' "$g" "$(stat -c %s "$OUT/$g".pcap*)" \
        "$(tail -n 1 "$W/logs/$g-truth.txt")" >&2
done
