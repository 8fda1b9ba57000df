#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# End-to-end test of dicomon as a daemon: pinned state across restarts, SIGHUP
# reloads, `dicomon detach`, and running with exactly three capabilities.
#
#   modality ns (10.216.0.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (10.216.0.6)
#                                      10.216.0.1          10.216.0.5
#   pacs: storescp :11112, storescp :5104, storescp +tls :5105
#
# Pins never go to /sys/fs/bpf: the test mounts its own bpffs on
# <scratch>/bpffs in the host's mount namespace (an `ip netns exec` gets a
# private one, where a bpffs would die with the daemon and take the pins
# along), visible from the gateway's `ip netns exec`; each phase uses its own
# --pin-root below it. Cleanup unmounts it.
#
# Usage (as root):
#   tests/e2e/test_daemon.sh [--keep] [DICOMON]
#
# Phases:
#   restart  2 echoes, an association C set up and held, SIGUSR1 counters,
#            kill -9; an echo while the daemon is down (the pinned links keep
#            counting); restart takes the links over (same link ids, state
#            "restored"), prints the flow_end queued while down; C finishes and
#            ends whole; an echo; SIGINT: totals = the sum, association ids
#            unique. Then a map-size mismatch (exit 5) and --reset-state.
#   reload   config ports [104, 11112], any_port false. An echo; a held
#            association A on :11112 and B on :5104, both set up; TLS echo on
#            :5105 (not recognised). SIGHUP with ports + 5104, 5105: same XDP
#            links, new program. A and B finish: A's record is whole (the
#            table survived), B is picked up mid-stream on the new port; TLS
#            on :5105 is recognised now. Totals kept. A reload drops gw-pacs
#            and adds TC egress on gw-mod. A bad file on SIGHUP is refused
#            with its line and the daemon keeps counting.
#   detach   exactly CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON (setpriv), XDP + TC
#            ingress through clsact; detach refused while running; kill -9;
#            the clsact filter survives, a restart replaces it (still one);
#            SIGTERM with --keep-attached leaves the attachments;
#            `dicomon detach`: no pin, no link, no filter, no XDP,
#            and traffic no longer counted in the (test-held) stats map.
#   install  make install DESTDIR=<scratch>: the files, the config not
#            overwritten, --version, the shipped config, systemd-analyze verify.
# The last line printed is "daemon: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

e2e_args "" "$@"

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP, bpffs)"
e2e_need ip tc ss python3 echoscu storescp openssl bpftool setpriv mount umount timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found/executable: $DICOMON"
DICOMON=$(realpath "$DICOMON")
# tcx links (6.6+), else TC attaches through clsact (dicomon version says).
TCX=$("$DICOMON" version --json 2>/dev/null | python3 -c \
    'import json,sys; print(1 if json.load(sys.stdin)["features"].get("tcx") else 0)' || echo 0)

PFX="dmdmn-$$"
NS_MOD="$PFX-mod" NS_GW="$PFX-gw" NS_PACS="$PFX-pacs"
MOD_IP=10.216.0.2 GW_MOD_IP=10.216.0.1 GW_PACS_IP=10.216.0.5 PACS_IP=10.216.0.6
AE_MOD=MODALITY1 AE_PACS=PACS_SCP
BPFFS=""

cleanup() {
    local rc=$?
    set +e # a failing step must not stop the cleanup (under set -e)
    # Lazy: the daemon may still hold the directory; its pins go when it does.
    if [[ -n $BPFFS ]] && mountpoint -q "$BPFFS"; then
        umount -l "$BPFFS" 2>/dev/null || true
    fi
    (exit "$rc")
    e2e_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/files" "$W/out"
BPFFS=$W/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
PASSED=0 FAILED=0

# ------------------------------------------------------------------ topology
e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" 10.216.0

e2e_make_pki "$W/files"
F=$W/files
start_server() { # start_server TAG PORT [OPTION...]
    local tag=$1 port=$2
    shift 2
    e2e_bg "storescp-$tag" "$W/logs/storescp-$tag.out" "$W/logs/storescp-$tag.err" \
        ip netns exec "$NS_PACS" storescp --aetitle "$AE_PACS" -od "$W/out" "$@" "$port"
    e2e_wait_for 10 "storescp ($tag) on :$port" e2e_port_listening "$NS_PACS" "$port" ||
        e2e_die "storescp ($tag) did not start: $(cat "$W/logs/storescp-$tag.err")"
}
start_server plain 11112
start_server plain2 5104
start_server tls 5105 +tls "$F/server.key" "$F/server.crt" -pw +cf "$F/ca.crt"

# ------------------------------------------------------------------ helpers
N_ECHO=0
echo_to() { # echo_to PORT [TLS] : one C-ECHO association modality -> pacs
    local port=$1 rc=0
    local tls=()
    [[ ${2:-} == tls ]] && tls=(+tls "$F/client.key" "$F/client.crt" -pw +cf "$F/ca.crt")
    N_ECHO=$((N_ECHO + 1))
    timeout 30 ip netns exec "$NS_MOD" echoscu -aet "$AE_MOD" -aec "$AE_PACS" "${tls[@]}" \
        "$PACS_IP" "$port" >"$W/logs/echo-$N_ECHO.log" 2>&1 || rc=$?
    ((rc == 0)) || e2e_log "echoscu #$N_ECHO to :$port failed (rc=$rc): $(tail -n 3 "$W/logs/echo-$N_ECHO.log")"
    return "$rc"
}

count_events() { # count_events FILE EVENT
    grep -c "\"event\":\"$2\"" "$1" 2>/dev/null || true
}

# start_dicomon NAME [PREFIX-COMMAND... --] DICOMON-ARGS... : background daemon in
# the gateway, JSON on $W/NAME.jsonl; waits for "ready". Sets DPID.
start_dicomon() {
    local name=$1 pre=()
    shift
    if [[ ${1:-} == setpriv ]]; then
        while [[ $1 != -- ]]; do pre+=("$1"); shift; done
        shift
    fi
    DEV=$W/$name.jsonl DERR=$W/logs/$name.err
    e2e_bg "dicomon-$name" "$DEV" "$DERR" \
        ip netns exec "$NS_GW" "${pre[@]}" "$DICOMON" run --json -v "$@"
    DPID=$E2E_LAST_PID
    ready() { ! e2e_alive "$DPID" || grep -qs '"event":"ready"' "$DEV"; }
    if ! e2e_wait_for 20 "dicomon ($name) ready" ready || ! grep -qs '"event":"ready"' "$DEV"; then
        e2e_log "dicomon ($name) not ready; stderr:"
        sed 's/^/    /' "$DERR" >&2
        return 1
    fi
}

wait_events() { # wait_events FILE EVENT N
    local f=$1 ev=$2 n=$3
    have() { (($(count_events "$f" "$ev") >= n)); }
    e2e_wait_for 10 "$n $ev events in $(basename "$f")" have
}

# held TAG PORT : a Verification association set up, then held until $W/go-TAG exists
held() {
    e2e_bg "slowscu-$1" "$W/logs/slow-$1.out" "$W/logs/slow-$1.err" \
        ip netns exec "$NS_MOD" python3 "$HERE/slowscu.py" "$PACS_IP" "$2" "$W/slow-$1.state" \
        "$W/go-$1"
    eval "PID_SLOW_$1=\$E2E_LAST_PID"
}
# slow_exit PID : the exit status of a slowscu that wrote "done": it exits by
# itself right after (a slow machine may take a while to get there; a TERM
# sent before it does would count as a failure), else it is stopped.
slow_exit() {
    exited() { ! e2e_alive "$1" || [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]]; }
    e2e_wait_for 10 "slowscu $1 exits" exited "$1" || true
    e2e_stop "$1" TERM 5
}
associated() { # associated TAG... : every held association is set up
    local t
    for t in "$@"; do grep -qs associated "$W/slow-$t.state" || return 1; done
}
finished() {
    local t
    for t in "$@"; do grep -qs 'done' "$W/slow-$t.state" || return 1; done
}

link_json() { bpftool link show pinned "$1" -j 2>/dev/null || echo '{}'; }
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }

# py_check CHECKS... : run a Python snippet that prints PASS/FAIL lines; count them.
py_check() {
    local line
    while IFS= read -r line; do
        echo "$line"
        case $line in
            PASS*) PASSED=$((PASSED + 1)) ;;
            FAIL*) FAILED=$((FAILED + 1)) ;;
        esac
    done < <(python3 - "$@" 2>&1 || echo "FAIL python check crashed")
}

# shellcheck disable=SC2054 # the commas belong to setpriv's capability lists
SETPRIV=(setpriv --bounding-set=-all,+bpf,+net_admin,+perfmon --inh-caps=-all --)

# ================================================================== restart
e2e_log "phase restart"
PIN_A=$BPFFS/a
COMMON_A=(-i gw-mod -i gw-pacs --pin-root "$PIN_A" -o "table.status_socket=$W/status-a.sock")
start_dicomon restart1 "${COMMON_A[@]}" || e2e_die "first daemon did not start"
RUN1=$DEV PID1=$DPID
ok=1; echo_to 11112 || ok=0; echo_to 11112 || ok=0
e2e_result "$ok" "restart: two echoes through the gateway"
# storescp serves one association at a time: C is held on the second one, :5104
# (not a DICOM port here; A-ASSOCIATE-RQ is recognised on any port).
held C 5104
e2e_wait_for 15 "held association C set up" associated C || e2e_die "slowscu C: $(cat "$W/logs/slow-C.err")"
PORT_C=$(awk '/associated/ {print $2}' "$W/slow-C.state")
wait_events "$RUN1" flow_end 2 || true
kill -USR1 "$PID1"
wait_events "$RUN1" stats 1 || true
# dicomon status, from the running daemon: the two echoes finished, C active.
"$DICOMON" status --json --socket "$W/status-a.sock" >"$W/status-live.json" 2>"$W/logs/status-live.err" || true
"$DICOMON" status --socket "$W/status-a.sock" >"$W/status-live.txt" 2>&1 || true
py_check "$W/status-live.json" "$PORT_C" "$W/status-live.txt" <<'PY'
import json, os, stat, sys
def check(ok, name, detail=""):
    print(("PASS " if ok else "FAIL ") + "status: " + name + ("" if ok else ": " + detail))
try:
    snap = json.load(open(sys.argv[1]))
except ValueError as e:
    check(False, "daemon answers with JSON", str(e)); sys.exit(0)
check(snap.get("source") == "daemon", "answered by the daemon", str(snap.get("source")))
assocs = snap.get("associations", [])
fin = [a for a in assocs if a.get("status") == "finished"]
act = [a for a in assocs if a.get("status") == "active"]
check(len(fin) == 2 and all(a.get("outcome") == "released" and a.get("calling_ae") and
      a.get("commands", {}).get("C-ECHO-RQ") == 1 for a in fin),
      "two finished echoes with AE titles, outcome and commands", json.dumps(fin)[:400])
c = [a for a in act if a.get("sport") == int(sys.argv[2])]
check(len(c) == 1 and c[0].get("calling_ae") == "SLOWSCU" and c[0].get("outcome") == "accepted"
      and c[0].get("pdus", {}).get("orig", {}).get("A-ASSOCIATE-RQ") == 1,
      "the held association is active, with live kernel counters", json.dumps(act)[:400])
check(snap.get("totals", {}).get("associations", {}).get("new_cleartext") == 3,
      "totals from the kernel counters", str(snap.get("totals", {}).get("associations")))
mode = stat.S_IMODE(os.stat(os.path.dirname(sys.argv[1]) + "/status-a.sock").st_mode)
check(mode == 0o600, "the socket is owner-only", oct(mode))
txt = open(sys.argv[3]).read()
check("Initiator" in txt and "SLOWSCU" in txt and "released" in txt, "text output like ss", txt[:300])
PY
LINK_MOD_1=$(link_json "$PIN_A/link:xdp:gw-mod" | jget id)
e2e_result $((${#LINK_MOD_1} > 0)) "restart: XDP link pinned as link:xdp:gw-mod" "$(ls "$PIN_A" 2>&1 | tr '\n' ' ')"
e2e_stop "$PID1" KILL 5 2>/dev/null || true
n=$(find "$PIN_A" -maxdepth 1 -name 'dm_*' | wc -l)
e2e_result $((n == 8)) "restart: after kill -9 the 8 state pins remain" "$(ls "$PIN_A" | tr '\n' ' ')"
ok=0; ip -n "$NS_GW" -d link show gw-mod | grep -q 'prog/xdp' && ok=1
e2e_result "$ok" "restart: after kill -9 XDP stays attached (pinned link)"
# dicomon status with the daemon down: from the pinned maps.
"$DICOMON" status --json --socket "$W/status-a.sock" --pin-root "$PIN_A" \
    >"$W/status-pinned.json" 2>"$W/logs/status-pinned.err" || true
py_check "$W/status-pinned.json" "$PORT_C" <<'PY'
import json, sys
def check(ok, name, detail=""):
    print(("PASS " if ok else "FAIL ") + "status: " + name + ("" if ok else ": " + detail))
try:
    snap = json.load(open(sys.argv[1]))
except ValueError as e:
    check(False, "pinned maps read without a daemon", str(e)); sys.exit(0)
check(snap.get("source") == "pinned maps", "daemon down: read from the pinned maps",
      str(snap.get("source")))
c = [a for a in snap.get("associations", []) if a.get("sport") == int(sys.argv[2])]
check(len(c) == 1 and c[0].get("state") == "accepted", "the held association, from dm_flows",
      json.dumps(snap.get("associations"))[:300])
check(snap.get("totals", {}).get("associations", {}).get("new_cleartext") == 3,
      "totals from the pinned counters", str(snap.get("totals", {}).get("associations")))
PY
echo_to 11112 && ok=1 || ok=0
e2e_result "$ok" "restart: an echo while the daemon is down"
start_dicomon restart2 "${COMMON_A[@]}" || e2e_die "second daemon did not start"
RUN2=$DEV PID2=$DPID
LINK_MOD_2=$(link_json "$PIN_A/link:xdp:gw-mod" | jget id)
e2e_result $((LINK_MOD_1 == LINK_MOD_2)) "restart: the pinned XDP link is taken over, not replaced" \
    "link $LINK_MOD_1 before, $LINK_MOD_2 after"
ok=0; grep -q 'xdp taken over from the previous run' "$DERR" && ok=1
e2e_result "$ok" "restart: the daemon reports the take-over" "$(head -n 5 "$DERR")"
touch "$W/go-C"
e2e_wait_for 15 "held association C finished" finished C || e2e_log "slowscu C: $(cat "$W/logs/slow-C.err")"
ok=1; slow_exit "$PID_SLOW_C" || ok=0
e2e_result "$ok" "restart: an association set up before kill -9 completes after the restart" \
    "$(tail -n 3 "$W/logs/slow-C.err")"
echo_to 11112 || true
wait_events "$RUN2" flow_end 3 || true
RC=0; e2e_stop "$PID2" INT 10 || RC=$?
e2e_result $((RC == 0)) "restart: SIGINT exits 0" "rc=$RC"
py_check "$RUN1" "$RUN2" "$PORT_C" <<'PY'
import json, sys
def events(path):
    out = []
    for line in open(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out
r1, r2 = events(sys.argv[1]), events(sys.argv[2])
def check(ok, name, detail=""):
    print(("PASS " if ok else "FAIL ") + "restart: " + name + ("" if ok else ": " + detail))
ready2 = [e for e in r2 if e.get("event") == "ready"]
check(ready2 and ready2[0].get("state") == "restored", "second run starts from the pinned state",
      str(ready2[:1]))
s1 = [e for e in r1 if e.get("event") == "stats"]
s2 = [e for e in r2 if e.get("event") == "stats"]
if not s1 or not s2:
    check(False, "stats lines", "run1 %d, run2 %d" % (len(s1), len(s2)))
    sys.exit(0)
t1, t2 = s1[-1]["total"], s2[-1]["total"]
a1, a2 = t1["associations"], t2["associations"]
check(a1.get("new_cleartext") == 3 and a1.get("released") == 2,
      "first run counted 3 associations (2 done, 1 held)", str(a1))
check(a2.get("new_cleartext") == 5 and a2.get("released") == 5 and a2.get("ended") == 5,
      "final totals are the sum: 3 + 1 while down + 1", str(a2))
rq = t2["pdus"]["orig"].get("A-ASSOCIATE-RQ"), t2["pdus"]["reply"].get("A-ASSOCIATE-AC")
check(rq == (5, 5), "final PDU totals are the sum (5 RQ, 5 AC)", str(rq))
def flat(d, p=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, p + k + ".")
        else:
            yield p + k, v
f1, f2 = dict(flat(t1)), dict(flat(t2))
shrunk = [k for k in f1 if isinstance(f1[k], int) and f2.get(k, 0) < f1[k]]
check(not shrunk, "no kernel counter went down across the restart", str(shrunk[:5]))
per = s2[-1]["interfaces"]
check(per.get("gw-mod", {}).get("pdus", {}).get("orig", {}).get("A-ASSOCIATE-RQ") == 5,
      "gw-mod kept its counter slot (5 RQs counted there)", str(per.get("gw-mod", {}).get("pdus")))
ends1 = [e for e in r1 if e.get("event") == "flow_end"]
ends2 = [e for e in r2 if e.get("event") == "flow_end"]
check(len(ends1) == 2 and len(ends2) == 3,
      "flow_end: 2 in the first run, 3 in the second (one queued while down)",
      "%d + %d" % (len(ends1), len(ends2)))
ids = [e["assoc_id"] for e in ends1 + ends2]
check(len(set(ids)) == len(ids) == 5, "association ids unique across the restart", str(ids))
c = [e for e in ends2 if e.get("sport") == int(sys.argv[3])]
# (Its AE titles are not checked: the RQ was decoded by the killed process.)
check(len(c) == 1 and not c[0].get("midstream") and c[0].get("state") == "released" and
      c[0].get("pdus", {}).get("orig") == {"A-ASSOCIATE-RQ": 1, "P-DATA-TF": 1, "A-RELEASE-RQ": 1},
      "the association held across kill -9 ends whole (same slot: the hash seed was kept)", str(c))
check(all(e.get("state") == "released" for e in ends1 + ends2), "every association released",
      str([e.get("state") for e in ends1 + ends2]))
PY
n=$(find "$PIN_A" -maxdepth 1 -name 'link:*' | wc -l)
e2e_result $((n == 0)) "restart: SIGINT removed the link pins (state pins stay)" "$(ls "$PIN_A" | tr '\n' ' ')"
# A map of another size: refused with exit 5, naming the map; --reset-state starts afresh.
RC=0
timeout 20 ip netns exec "$NS_GW" "$DICOMON" run "${COMMON_A[@]}" --flow-slots 1024 \
    >/dev/null 2>"$W/logs/mismatch.err" || RC=$?
ok=0; ((RC == 5)) && grep -q 'dm_flows cannot be reused: it has 16384 entries' "$W/logs/mismatch.err" &&
    grep -q -- '--reset-state' "$W/logs/mismatch.err" && ok=1
e2e_result "$ok" "restart: pinned map of another size refused (exit 5, names map and fix)" \
    "rc=$RC: $(head -c 400 "$W/logs/mismatch.err")"
start_dicomon reset "${COMMON_A[@]}" --flow-slots 1024 --reset-state && ok=1 || ok=0
RC=0; e2e_stop "$DPID" INT 10 || RC=$?
ok=0; ((RC == 0)) && grep -q '"state":"new"' "$DEV" &&
    grep '"event":"stats"' "$DEV" | grep -q '"new_cleartext":0' && ok=1
e2e_result "$ok" "restart: --reset-state drops the pinned table and counters" "rc=$RC"

# ================================================================== reload
e2e_log "phase reload"
PIN_B=$BPFFS/b
CFG=$W/dicomon.yaml
write_cfg() { # write_cfg PORTS [INTERFACES-YAML]
    cat >"$CFG" <<EOF
interfaces: ${2:-[gw-mod, gw-pacs]}
detection:
  ports: [$1]
  any_port: false
state:
  pin_root: $PIN_B
table:
  status_socket: $W/status-b.sock
EOF
}
write_cfg "104, 11112"
start_dicomon reload -c "$CFG" || e2e_die "daemon (reload phase) did not start"
RUNB=$DEV PIDB=$DPID
echo_to 11112 || true
held A 11112
held B 5104
e2e_wait_for 15 "held associations set up" associated A B || e2e_die "slowscu did not associate: $(cat "$W"/logs/slow-*.err)"
PORT_A=$(awk '/associated/ {print $2}' "$W/slow-A.state")
PORT_B=$(awk '/associated/ {print $2}' "$W/slow-B.state")
echo_to 5105 tls && ok=1 || ok=0
e2e_result "$ok" "reload: TLS echo to :5105 (not a DICOM port yet)"
sleep 0.3
kill -USR1 "$PIDB"
wait_events "$RUNB" stats 1 || true
LINK_B1=$(link_json "$PIN_B/link:xdp:gw-mod")
write_cfg "104, 11112, 5104, 5105"
kill -HUP "$PIDB"
wait_events "$RUNB" reload 1 || true
LINK_B2=$(link_json "$PIN_B/link:xdp:gw-mod")
ok=0
[[ $(jget id <<<"$LINK_B1") == "$(jget id <<<"$LINK_B2")" && -n $(jget id <<<"$LINK_B1") &&
    $(jget prog_id <<<"$LINK_B1") != "$(jget prog_id <<<"$LINK_B2")" ]] && ok=1
e2e_result "$ok" "reload: same XDP link, new program (updated in place, no detach)" "before $LINK_B1 after $LINK_B2"
touch "$W/go-A" "$W/go-B"
e2e_wait_for 15 "held associations finished" finished A B || e2e_log "slowscu: $(cat "$W"/logs/slow-*.err)"
ok=1; slow_exit "$PID_SLOW_A" || ok=0; slow_exit "$PID_SLOW_B" || ok=0
e2e_result "$ok" "reload: held associations completed (C-ECHO and release after the reload)"
echo_to 5105 tls || true
sleep 0.3
# The interface set changes: gw-pacs goes, gw-mod gains TC egress (the replies).
write_cfg "104, 11112, 5104, 5105" "[{name: gw-mod, tc_egress: true}]"
kill -HUP "$PIDB"
wait_events "$RUNB" reload 2 || true
ok=0
# TC egress is a tcx link where the kernel has tcx (6.6+), a clsact filter before.
TC_PIN=link:tc_egress:gw-mod
((TCX)) || TC_PIN=clsact:tc_egress:gw-mod
[[ $(link_json "$PIN_B/link:xdp:gw-mod" | jget id) == "$(jget id <<<"$LINK_B1")" &&
    ! -e $PIN_B/link:xdp:gw-pacs && -e $PIN_B/$TC_PIN ]] &&
    ! ip -n "$NS_GW" -d link show gw-pacs | grep -q 'prog/xdp' && ok=1
e2e_result "$ok" "reload: gw-pacs detached, TC egress added on gw-mod, gw-mod's XDP link untouched" \
    "$(ls "$PIN_B" | tr '\n' ' ')"
# A file that does not parse: refused with its line, nothing changes.
printf 'interfaces: [gw-mod]\ndetection:\n  ports: [104, 11112]\n  any_prot: false\n' >"$CFG"
kill -HUP "$PIDB"
wait_events "$RUNB" reload 3 || true
ok=0; e2e_alive "$PIDB" && grep -q "dicomon.yaml:4:3: unknown key 'detection.any_prot'" "$DERR" && ok=1
e2e_result "$ok" "reload: a bad file is refused with its line; the daemon runs on" "$(grep -i reload "$DERR" | tail -n 2)"
echo_to 11112 || true
wait_events "$RUNB" flow_end 5 || true
RC=0; e2e_stop "$PIDB" INT 10 || RC=$?
e2e_result $((RC == 0)) "reload: SIGINT exits 0" "rc=$RC"
py_check "$RUNB" "$PORT_A" "$PORT_B" <<'PY'
import json, sys
ev = []
for line in open(sys.argv[1]):
    try:
        ev.append(json.loads(line))
    except ValueError:
        pass
port_a, port_b = int(sys.argv[2]), int(sys.argv[3])
def check(ok, name, detail=""):
    print(("PASS " if ok else "FAIL ") + "reload: " + name + ("" if ok else ": " + detail))
reloads = [e for e in ev if e.get("event") == "reload"]
check([r.get("ok") for r in reloads] == [True, True, False],
      "three reload events: two good, the bad one refused", str(reloads))
ifs = [[i["name"] for i in r.get("interfaces", [])] for r in reloads]
check(ifs == [["gw-mod", "gw-pacs"], ["gw-mod"], ["gw-mod"]],
      "reload events list the interfaces then watched", str(ifs))
ends = [e for e in ev if e.get("event") == "flow_end"]
a = [e for e in ends if e.get("sport") == port_a and e.get("dport") == 11112]
b = [e for e in ends if e.get("sport") == port_b and e.get("dport") == 5104]
tls = [e for e in ends if e.get("dport") == 5105]
want_a = {"A-ASSOCIATE-RQ": 1, "P-DATA-TF": 1, "A-RELEASE-RQ": 1}
check(len(a) == 1 and a[0].get("pdus", {}).get("orig") == want_a and a[0].get("state") == "released"
      and not a[0].get("midstream") and a[0].get("calling_ae") == "SLOWSCU",
      "association set up before the reload ends whole after it (table kept)", str(a))
check(len(b) == 1 and b[0].get("midstream") is True and b[0].get("state") == "released"
      and b[0].get("pdus", {}).get("orig", {}).get("P-DATA-TF") == 1
      and "A-ASSOCIATE-RQ" not in b[0].get("pdus", {}).get("orig", {}),
      "on the new port 5104 the held association is picked up mid-stream", str(b))
check(len(tls) == 1 and tls[0].get("transport") == "tls",
      "TLS on the new port 5105 recognised after the reload (and only then)", str(tls))
stats = [e for e in ev if e.get("event") == "stats"]
before, after = stats[0]["total"]["associations"], stats[-1]["total"]["associations"]
check(before.get("new_cleartext") == 2 and before.get("new_tls") == 0,
      "before the reload: echo + held A counted, TLS on 5105 not", str(before))
check(after.get("new_cleartext") == 3 and after.get("new_tls") == 1 and after.get("new_midstream") == 1,
      "after: counters kept and added to (3 cleartext, 1 TLS, 1 mid-stream)", str(after))
PY

# ================================================================== idle
# An association the wire never closes ends by table.idle_timeout_seconds with
# a record (end_reason "idle"); what comes for it afterwards makes no second one.
e2e_log "phase idle"
PIN_D=$BPFFS/d
start_dicomon idle -i gw-mod -i gw-pacs --pin-root "$PIN_D" -o "table.status_socket=$W/status-d.sock" \
    -o table.idle_timeout_seconds=2 || e2e_die "daemon with a 2 s idle timeout did not start"
RUN_IDLE=$DEV
held D 5104
e2e_wait_for 15 "held association D set up" associated D || e2e_die "slowscu D: $(cat "$W/logs/slow-D.err")"
PORT_D=$(awk '/associated/ {print $2}' "$W/slow-D.state")
idle_end() { grep '"event":"flow_end"' "$RUN_IDLE" | grep -q "\"sport\":$PORT_D,.*\"reason\":\"idle\""; }
ok=0; e2e_wait_for 20 "association D ended idle" idle_end && ok=1
e2e_result "$ok" "idle: a silent association ends with reason idle" "$(grep '"event":"flow_end"' "$RUN_IDLE" | tail -n 2)"
touch "$W/go-D"
e2e_wait_for 15 "held association D finished" finished D || e2e_log "slowscu D: $(cat "$W/logs/slow-D.err")"
eval "slow_exit \$PID_SLOW_D"
late() { ip netns exec "$NS_GW" curl -s "http://127.0.0.1:9479/metrics" >"$W/idle.prom" &&
    grep -Eq '^dicomon_events_after_eviction_total\{ended="idle"\} [1-9]' "$W/idle.prom"; }
ok=0; e2e_wait_for 10 "the late events counted" late && ok=1
e2e_result "$ok" "idle: the association's later PDUs and end are counted as late, not recorded" \
    "$(grep -E 'events_after_eviction|idle_ended' "$W/idle.prom")"
N=$(grep '"event":"flow_end"' "$RUN_IDLE" | grep -c "\"sport\":$PORT_D," || true)
e2e_result $((N == 1)) "idle: exactly one record for the association" "$N flow_end lines for port $PORT_D"
RC=0; e2e_stop "$DPID" INT 10 || RC=$?
e2e_result $((RC == 0)) "idle: the daemon stops cleanly" "rc=$RC"

# ================================================================== detach
e2e_log "phase detach"
PIN_C=$BPFFS/c
COMMON_C=(-i gw-mod -i gw-pacs --tc-ingress --tc-mode clsact --pin-root "$PIN_C" -o "table.status_socket=$W/status-c.sock")
start_dicomon caps "${SETPRIV[@]}" "${COMMON_C[@]}" || e2e_die "daemon with three capabilities did not start"
CAPS=$(awk '/^CapEff/ {print $2}' "/proc/$DPID/status")
e2e_result $((16#$CAPS == 0xc000001000)) "detach: the daemon runs with exactly CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON" "CapEff $CAPS"
RC=0; ip netns exec "$NS_GW" "$DICOMON" detach --pin-root "$PIN_C" 2>"$W/logs/detach-busy.err" || RC=$?
e2e_result $((RC == 5)) "detach: refused while a daemon runs on the pins (exit 5)" "rc=$RC $(cat "$W/logs/detach-busy.err")"
echo_to 11112 || true
e2e_stop "$DPID" KILL 5 2>/dev/null || true
filters() { ip netns exec "$NS_GW" tc filter show dev gw-mod ingress | grep -c 'handle 0xd1c0' || true; }
e2e_result $(($(filters) == 1)) "detach: after kill -9 our clsact filter is still there" "$(ip netns exec "$NS_GW" tc filter show dev gw-mod ingress)"
start_dicomon caps2 "${SETPRIV[@]}" "${COMMON_C[@]}" --keep-attached ||
    e2e_die "restart with three capabilities failed"
ok=0; grep -q "replacing the previous run's filter" "$DERR" && (($(filters) == 1)) && ok=1
e2e_result "$ok" "detach: a restart replaces the clsact filter (still exactly one)" "$(grep clsact "$DERR" | head -n 2)"
echo_to 11112 || true
RC=0; e2e_stop "$DPID" TERM 10 || RC=$?
ok=0; ((RC == 0)) && [[ -e $PIN_C/link:xdp:gw-mod ]] && (($(filters) == 1)) && ok=1
e2e_result "$ok" "detach: with --keep-attached SIGTERM exits 0 and leaves the attachments" \
    "rc=$RC $(ls "$PIN_C" | tr '\n' ' ')"
# Hold the stats map ourselves (outside the pin root), and note the link ids.
bpftool map pin pinned "$PIN_C/dm_stats" "$BPFFS/observed_stats"
LINKS=$(for i in gw-mod gw-pacs; do link_json "$PIN_C/link:xdp:$i" | jget id; done | tr '\n' ' ')
RC=0; ip netns exec "$NS_GW" "$DICOMON" detach --pin-root "$PIN_C" 2>"$W/logs/detach.err" || RC=$?
e2e_result $((RC == 0)) "detach: dicomon detach exits 0" "rc=$RC $(cat "$W/logs/detach.err")"
ok=0; [[ ! -e $PIN_C ]] && ok=1
e2e_result "$ok" "detach: no pin left (pin root removed)" "$(ls "$PIN_C" 2>&1 | tr '\n' ' ')"
gone=1
for id in $LINKS; do bpftool link show id "$id" >/dev/null 2>&1 && gone=0; done
e2e_result $((gone && ${#LINKS} > 2)) "detach: the XDP links are gone" "link ids: $LINKS"
ok=1; for i in gw-mod gw-pacs; do ip -n "$NS_GW" -d link show "$i" | grep -q 'prog/xdp' && ok=0; done
e2e_result "$ok" "detach: no XDP program on the interfaces (ip -d link)"
e2e_result $(($(filters) == 0)) "detach: no clsact filter of ours" "$(ip netns exec "$NS_GW" tc filter show dev gw-mod ingress)"
bpftool map dump pinned "$BPFFS/observed_stats" >"$W/stats-before"
echo_to 11112 && ok=1 || ok=0
bpftool map dump pinned "$BPFFS/observed_stats" >"$W/stats-after"
cmp -s "$W/stats-before" "$W/stats-after" || ok=0
e2e_result "$ok" "detach: traffic afterwards is not counted (nothing attached)"
rm -f "$BPFFS/observed_stats"

# ================================================================== install
# make install into a scratch DESTDIR; the unit checked by systemd-analyze if
# it is installed (systemd need not run: verify works offline).
if [[ -f $REPO/Makefile ]]; then
    e2e_log "phase install"
    D=$W/dest
    ok=1
    make -s -C "$REPO" install DESTDIR="$D" >"$W/logs/install.log" 2>&1 || ok=0
    for f in usr/local/sbin/dicomon usr/local/lib/dicomon/dicomon.bpf.o usr/local/lib/dicomon/dicomon_meta.bpf.o \
        usr/local/lib/systemd/system/dicomon.service usr/local/share/man/man8/dicomon.8 \
        usr/local/share/dicomon/dicomon.yaml etc/dicomon/dicomon.yaml; do
        [[ -f $D/$f ]] || { ok=0; e2e_log "not installed: $f"; }
    done
    e2e_result "$ok" "install: binary, BPF object, unit, man page, config" "$(tail -n 3 "$W/logs/install.log")"
    echo "# local change" >>"$D/etc/dicomon/dicomon.yaml"
    make -s -C "$REPO" install DESTDIR="$D" >>"$W/logs/install.log" 2>&1 || true
    ok=0; grep -q '# local change' "$D/etc/dicomon/dicomon.yaml" && ok=1
    e2e_result "$ok" "install: an existing /etc/dicomon/dicomon.yaml is not overwritten"
    ok=0; "$D/usr/local/sbin/dicomon" --version >"$W/logs/version.out" 2>&1 &&
        grep -q '^dicomon [0-9]' "$W/logs/version.out" && grep -q 'tcx links' "$W/logs/version.out" &&
        grep -q 'XDP RX VLAN metadata kfunc' "$W/logs/version.out" && ok=1
    e2e_result "$ok" "install: dicomon --version names the version and kernel features" "$(cat "$W/logs/version.out")"
    ok=0; "$D/usr/local/sbin/dicomon" run -c "$D/etc/dicomon/dicomon.yaml" -i lo --check \
        >/dev/null 2>"$W/logs/check.err" && ok=1
    e2e_result "$ok" "install: the shipped config passes --check" "$(cat "$W/logs/check.err")"
    if command -v systemd-analyze >/dev/null 2>&1; then
        sed "s|/usr/local/sbin/dicomon|$D/usr/local/sbin/dicomon|" \
            "$D/usr/local/lib/systemd/system/dicomon.service" >"$W/dicomon.service"
        ok=0; MANPATH=$D/usr/local/share/man systemd-analyze verify "$W/dicomon.service" \
            >"$W/logs/verify.out" 2>&1 && ok=1
        e2e_result "$ok" "install: systemd-analyze verify accepts the unit" "$(cat "$W/logs/verify.out")"
    else
        echo "SKIP install: systemd-analyze not installed, unit not verified"
    fi
fi

echo "daemon: $PASSED passed, $FAILED failed"
((FAILED == 0))
