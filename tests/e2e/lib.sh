# shellcheck shell=bash
# Helpers for the dicomon end-to-end tests (sourced, not executed).
#
# Everything a test creates is registered here and torn down by e2e_cleanup:
#   - network namespaces  (E2E_NETNS)   -> ip netns del
#   - /etc/netns/<ns> dirs (E2E_ETCNS)  -> rm -rf
#   - background PIDs     (E2E_PIDS)    -> kill <pid>, only PIDs we started
#   - the scratch dir     (E2E_TMP)     -> rm -rf (unless E2E_KEEP=1)
# Links need no separate bookkeeping: every veth lives inside one of our
# namespaces and disappears with it.

E2E_NETNS=()
E2E_ETCNS=()
E2E_PIDS=()
E2E_PIDNAMES=()
E2E_TMP=""
E2E_KEEP="${E2E_KEEP:-0}"
E2E_CREATED_ETC_NETNS=0

e2e_log() { printf '[e2e %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
e2e_die() { printf '[e2e] FATAL: %s\n' "$*" >&2; exit 1; }

# e2e_need TOOL... : fail early with a clear message if a tool is missing.
e2e_need() {
    local t missing=()
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || e2e_die "missing tools: ${missing[*]}"
}

# ---------------------------------------------------------------- processes

# e2e_bg NAME OUTFILE ERRFILE CMD... : start CMD in the background with
# SIGINT/SIGQUIT reset to default (bash ignores them for async jobs in
# non-interactive shells), remember its PID in E2E_LAST_PID.
e2e_bg() {
    local name=$1 out=$2 err=$3
    shift 3
    env --default-signal=INT,QUIT "$@" >"$out" 2>"$err" &
    E2E_LAST_PID=$!
    E2E_PIDS+=("$E2E_LAST_PID")
    E2E_PIDNAMES+=("$name")
}

e2e_alive() { kill -0 "$1" 2>/dev/null; }

# e2e_stop PID [SIGNAL] [TIMEOUT_S] : signal one of our PIDs and reap it.
# Escalates to SIGKILL after the timeout. Returns the process' exit status.
e2e_stop() {
    local pid=$1 sig=${2:-TERM} tmo=${3:-5} i rc=0
    if e2e_alive "$pid"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < tmo * 10; i++)); do
            e2e_alive "$pid" || break
            # a zombie child still answers kill -0; check its state
            [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
            sleep 0.1
        done
        if e2e_alive "$pid" && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
            e2e_log "pid $pid ignored SIG$sig for ${tmo}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

# e2e_wait_for TIMEOUT_S DESCRIPTION CMD... : poll CMD every 0.1 s.
e2e_wait_for() {
    local tmo=$1 what=$2 i
    shift 2
    for ((i = 0; i < tmo * 10; i++)); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    e2e_log "timed out after ${tmo}s waiting for: $what"
    return 1
}

# ---------------------------------------------------------------- namespaces

e2e_netns_add() {
    local ns=$1
    ip netns add "$ns"
    E2E_NETNS+=("$ns")
    # Offline resolver: DCMTK does reverse lookups of the peer; without this
    # every association stalls on the host's resolver.
    if [[ ! -d /etc/netns ]]; then
        mkdir -p /etc/netns && E2E_CREATED_ETC_NETNS=1
    fi
    mkdir -p "/etc/netns/$ns"
    E2E_ETCNS+=("/etc/netns/$ns")
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
    ip -n "$ns" link set lo up
    # No IPv6 inside the test namespaces: keeps the capture free of ND/MLD
    # noise and guarantees nothing leaves via an auto-configured route.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
}

# e2e_port_listening NS PORT
e2e_port_listening() {
    [[ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]]
}

# e2e_port_free NS PORT
e2e_port_free() { ! e2e_port_listening "$@"; }

# ---------------------------------------------------------------- cleanup

e2e_cleanup() {
    local rc=$? i pid ns
    set +e
    # 1. our own background processes, newest first
    for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${E2E_PIDS[i]}
        if e2e_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null
        fi
    done
    for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
        e2e_stop "${E2E_PIDS[i]}" TERM 3 >/dev/null 2>&1
    done
    # 2. anything our processes forked that is still inside one of OUR
    #    namespaces (e.g. tshark's dumpcap child). These namespaces carry a
    #    per-run unique name, so every PID in them descends from this run.
    for ns in "${E2E_NETNS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    done
    # 3. namespaces (their veths go with them) and resolver overrides
    for ns in "${E2E_NETNS[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    for ns in "${E2E_ETCNS[@]}"; do
        rm -rf -- "$ns"
    done
    if ((E2E_CREATED_ETC_NETNS)); then
        rmdir /etc/netns 2>/dev/null
    fi
    # 4. scratch dir
    if [[ -n "$E2E_TMP" && -d "$E2E_TMP" ]]; then
        if [[ "$E2E_KEEP" == 1 ]]; then
            e2e_log "keeping scratch dir $E2E_TMP"
        else
            rm -rf -- "$E2E_TMP"
        fi
    fi
    exit "$rc"
}

# ---------------------------------------------------------------- fixtures

# e2e_make_pki DIR : throwaway CA + server + client RSA-2048 keys/certs (PEM,
# unencrypted keys). Files: ca.crt server.key server.crt client.key client.crt
e2e_make_pki() {
    local d=$1 who
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
            -keyout ca.key -out ca.crt -subj "/CN=dicomon e2e throwaway CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        for who in server client; do
            openssl req -newkey rsa:2048 -nodes -sha256 \
                -keyout "$who.key" -out "$who.csr" -subj "/CN=dicomon-e2e-$who" 2>/dev/null
            printf '%s\n' "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyEncipherment" \
                "extendedKeyUsage=${who}Auth" >"$who.ext"
            openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key \
                -set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 \
                -extfile "$who.ext" -out "$who.crt" 2>/dev/null
            openssl verify -CAfile ca.crt "$who.crt" >/dev/null
        done
    )
}

# e2e_make_dicom DIR : writes small1.dcm, small2.dcm (tiny RGB images) and
# big.dcm (1024x1024 RGB = 3 MiB pixel data) via a generated BMP + img2dcm.
e2e_make_dicom() {
    local d=$1
    python3 - "$d" <<'PY'
import struct, sys, os
d = sys.argv[1]
def bmp(path, w, h, seed):
    row = (w * 3 + 3) & ~3
    pad = b"\0" * (row - w * 3)
    rows = []
    for y in range(h):
        line = bytearray()
        for x in range(w):
            line += bytes(((x * 7 + y + seed) & 255, (y * 3 + seed) & 255, (x ^ y) & 255))
        rows.append(bytes(line) + pad)
    data = b"".join(rows)
    hdr = b"BM" + struct.pack("<IHHI", 54 + len(data), 0, 0, 54)
    dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    with open(os.path.join(d, path), "wb") as f:
        f.write(hdr + dib + data)
bmp("small1.bmp", 32, 32, 1)
bmp("small2.bmp", 48, 40, 2)
bmp("big.bmp", 1024, 1024, 3)
PY
    img2dcm -q -i BMP -k "PatientName=E2E^Small1" -k "PatientID=E2E1" "$d/small1.bmp" "$d/small1.dcm"
    img2dcm -q -i BMP -k "PatientName=E2E^Small2" -k "PatientID=E2E2" "$d/small2.bmp" "$d/small2.dcm"
    img2dcm -q -i BMP -k "PatientName=E2E^Big" -k "PatientID=E2E3" "$d/big.bmp" "$d/big.dcm"
    rm -f "$d"/*.bmp
}

# e2e_make_dcmqrscp_cfg FILE DBDIR PORT AETITLE : config whose AETable knows
# only AETITLE, so any other called AE title is rejected (A-ASSOCIATE-RJ).
e2e_make_dcmqrscp_cfg() {
    local f=$1 db=$2 port=$3 aet=$4
    mkdir -p "$db"
    cat >"$f" <<EOF
NetworkTCPPort  = $port
MaxPDUSize      = 16384
MaxAssociations = 4

HostTable BEGIN
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
$aet   $db   RW   (10, 64mb)   ANY
AETable END
EOF
}

# ---------------------------------------------------------------- capture, dicomon

# e2e_capture_start NS IFACE PCAP PROBE_IP : tshark on IFACE in NS writing PCAP,
# returning once packets really land in the file (tshark says "Capturing on"
# ~0.5 s before it captures: UDP probes to PROBE_IP:9, a closed port inside our
# namespaces, until the file grows; they are not TCP, so no ground truth sees
# them). Sets E2E_TSHARK_PID. Logs go to $E2E_TMP/logs/tshark.*.
e2e_capture_start() {
    local ns=$1 dev=$2 pcap=$3 probe=$4 size0
    e2e_bg tshark "$E2E_TMP/logs/tshark.out" "$E2E_TMP/logs/tshark.err" \
        ip netns exec "$ns" tshark -i "$dev" -n -B 64 -w "$pcap"
    E2E_TSHARK_PID=$E2E_LAST_PID
    # shellcheck disable=SC2317 # called through e2e_wait_for
    _tshark_ready() {
        e2e_alive "$E2E_TSHARK_PID" || e2e_die "tshark exited early: $(cat "$E2E_TMP/logs/tshark.err")"
        grep -q "Capturing on" "$E2E_TMP/logs/tshark.err"
    }
    e2e_wait_for 20 "tshark capture start" _tshark_ready || e2e_die "tshark did not start"
    e2e_wait_for 10 "capture file header" test -s "$pcap" || e2e_die "tshark wrote no capture file"
    size0=$(stat -c %s "$pcap")
    # shellcheck disable=SC2317 # called through e2e_wait_for
    _capture_live() {
        ip netns exec "$ns" bash -c "echo dicomon-e2e-probe >/dev/udp/$probe/9" 2>/dev/null || true
        sleep 0.1
        (($(stat -c %s "$pcap" 2>/dev/null || echo 0) > size0))
    }
    e2e_wait_for 15 "first packet in the capture" _capture_live ||
        e2e_die "tshark captures nothing on $dev"
}

# e2e_dicomon_start NAME NS EVENTS ERRFILE DICOMON ARGS... : `DICOMON ARGS...`
# in NS, stdout to EVENTS, waiting for its {"event":"ready"} line (20 s).
# `ip netns exec` gives the command a private mount namespace with a fresh
# /sys and no bpffs: one is mounted there first (invisible to the host), then
# dicomon is exec'd under the same PID. Sets E2E_DICOMON_PID.
e2e_dicomon_start() {
    local name=$1 ns=$2 events=$3 err=$4
    shift 4
    # shellcheck disable=SC2016 # $0/$@ are for the inner sh
    e2e_bg "$name" "$events" "$err" ip netns exec "$ns" sh -c \
        'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || :; exec "$0" "$@"' \
        "$@"
    E2E_DICOMON_PID=$E2E_LAST_PID
    # shellcheck disable=SC2317 # called through e2e_wait_for
    _dicomon_ready() {
        if ! e2e_alive "$E2E_DICOMON_PID"; then
            local rc=0
            wait "$E2E_DICOMON_PID" || rc=$?
            e2e_die "$name exited early (rc=$rc); stderr:
$(cat "$err")"
        fi
        grep -Eq '"event"[[:space:]]*:[[:space:]]*"ready"' "$events"
    }
    e2e_wait_for 20 "$name {\"event\":\"ready\"}" _dicomon_ready ||
        e2e_die "$name not ready after 20s; stderr:
$(cat "$err")"
}

# e2e_gateway NS_MOD NS_GW NS_PACS NET : modality -- gateway -- pacs, two veth
# pairs made inside the namespaces (deleting a namespace deletes its links):
# modality eth0 NET.2/30, gateway gw-mod NET.1/30 and gw-pacs NET.5/30, pacs
# eth0 NET.6/30, forwarding on in the gateway, only the peer /30 routed (no
# default routes anywhere). The namespaces are registered for cleanup.
e2e_gateway() {
    local mod=$1 gw=$2 pacs=$3 net=$4 ns
    for ns in "$mod" "$gw" "$pacs"; do e2e_netns_add "$ns"; done
    ip -n "$gw" link add gw-mod type veth peer name eth0 netns "$mod"
    ip -n "$gw" link add gw-pacs type veth peer name eth0 netns "$pacs"
    ip -n "$mod" addr add "$net.2/30" dev eth0
    ip -n "$gw" addr add "$net.1/30" dev gw-mod
    ip -n "$gw" addr add "$net.5/30" dev gw-pacs
    ip -n "$pacs" addr add "$net.6/30" dev eth0
    ip -n "$mod" link set eth0 up
    ip -n "$gw" link set gw-mod up
    ip -n "$gw" link set gw-pacs up
    ip -n "$pacs" link set eth0 up
    ip -n "$mod" route add "$net.4/30" via "$net.1"
    ip -n "$pacs" route add "$net.0/30" via "$net.5"
    ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1
}

# e2e_result OK NAME [DETAIL]: one check's verdict (OK: 1 passed, 0 failed),
# a "PASS NAME (DETAIL)" or "FAIL NAME: DETAIL" line, counted in PASSED and
# FAILED (which the script sets to 0 and sums up at its end).
e2e_result() {
    if (($1)); then
        PASSED=$((PASSED + 1))
        echo "PASS $2${3:+ ($3)}"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL $2${3:+: $3}"
    fi
}

# e2e_args "EXTRA" "$@": the e2e scripts' command line. Every script takes
# --keep (E2E_KEEP=1: the scratch dir and namespaces stay), -h/--help (its
# header comment, from "# End-to-end test" to "set -euo") and an optional path
# to the dicomon under test (else $DICOMON, else the build's: DICOMON is set).
# EXTRA names the options a script also takes: "traffic-only" (TRAFFIC_ONLY=1),
# "xdp-obj" (--xdp-obj FILE: XDP_OBJ). Any other option is an error.
e2e_args() {
    local extra=" $1 " arg=""
    shift
    while (($#)); do
        case $1 in
            --keep) E2E_KEEP=1 ;;
            -h | --help)
                sed -n '/^# End-to-end test/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
                exit 0
                ;;
            --traffic-only)
                [[ $extra == *" traffic-only "* ]] || e2e_die "unknown option $1"
                TRAFFIC_ONLY=1
                ;;
            --xdp-obj)
                [[ $extra == *" xdp-obj "* ]] || e2e_die "unknown option $1"
                XDP_OBJ=${2:?--xdp-obj needs a file}
                shift
                ;;
            -*) e2e_die "unknown option $1" ;;
            *) arg=$1 ;;
        esac
        shift
    done
    DICOMON=${arg:-${DICOMON:-$REPO/.output/dicomon}}
}

# e2e_pair NS_CLI NS_SRV CLI_IP SRV_IP : two namespaces joined by one veth pair
# (eth0 in both, CLI_IP/30 and SRV_IP/30), registered for cleanup.
e2e_pair() {
    local cli=$1 srv=$2 cip=$3 sip=$4
    e2e_netns_add "$cli"
    e2e_netns_add "$srv"
    ip -n "$cli" link add eth0 type veth peer name eth0 netns "$srv"
    ip -n "$cli" addr add "$cip/30" dev eth0
    ip -n "$srv" addr add "$sip/30" dev eth0
    ip -n "$cli" link set eth0 up
    ip -n "$srv" link set eth0 up
}
