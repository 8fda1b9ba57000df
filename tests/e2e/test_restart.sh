#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# End-to-end test of reload, restart and self-monitoring (issue 13): never
# blind, never losing.
#
#   modality ns (10.217.0.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (10.217.0.6)
#   pacs: storescp :11112. dicomon in the gateway on both legs (XDP, auto mode).
#
# Pins go to a bpffs the test mounts on <scratch>/bpffs (never /sys/fs/bpf),
# one --pin-root per phase; a private mount namespace (unshare -m) stands
# for `ip netns exec`'s, where a bpffs dies with the daemon.
#
# Usage (as root):
#   tests/e2e/test_restart.sh [--keep] [DICOMON]
#
# Phases:
#   reload    echoscu loops modality -> pacs while dicomon gets 7 SIGHUPs,
#             each changing detection.ports (a new program is loaded and
#             verified in the reload thread every time), the 2nd adding two
#             idle veth interfaces of the gateway (gw-x1, gw-x2: 4 watched)
#             and the 6th removing them; in the 5th gw-x2 is deleted while
#             the new program is prepared, so its link cannot move: that
#             reload fails, the moves already made are undone (the kernel
#             runs the programs it ran before). Every association made has a
#             flow_end record (count, exact), every reload is ok, each
#             commit made at most one attachment change per loop handler
#             run (its steps >= the changes it made: a count, from the JSON
#             reload event), and the SIGHUP handler never ran over 50 ms
#             (dicomon_loop_slow_runs_total{handler="signal"} 0: the issue's
#             goal, asserted as a bound). Printed, not asserted: per reload
#             its commit's steps, total and longest step; every handler's
#             longest run (reload_step: the longest commit step).
#   takeover  kill -9, then a daemon with an empty pin root (the pins "died"):
#             it takes the dead daemon's XDP links over (same link ids), adopts
#             its state maps through the attached program (state "restored",
#             counters carry over), the ready event's program ids are what the
#             kernel runs, and an echo gets a record.
#   private   the daemon in a private mount namespace with its own bpffs,
#             kill -9, started again at once the same way: ready with every
#             hook attached with its own program id (kernel's view), and its
#             counters move with traffic. Prints kill -9 -> ready times.
#   foreign   a foreign XDP program on gw-mod: exit 3, an error naming its id
#             and name, no ready event, nothing left attached on gw-pacs.
#   detached  dicomon's XDP link on gw-mod detached behind its back:
#             dicomon_hook_attached{gw-mod,xdp} goes 0 and a warning says so;
#             gw-pacs stays 1.
# The last line printed is "restart: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

e2e_args "" "$@"
NOOP_OBJ=${NOOP_OBJ:-$REPO/.output/noop.bpf.o}

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP, bpffs)"
e2e_need ip ss python3 echoscu storescp bpftool mount umount unshare curl timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found/executable: $DICOMON"
[[ -f $NOOP_OBJ ]] || e2e_die "no $NOOP_OBJ (make builds it)"
DICOMON=$(realpath "$DICOMON")

PFX="dmrst-$$"
NS_MOD="$PFX-mod" NS_GW="$PFX-gw" NS_PACS="$PFX-pacs"
PACS_IP=10.217.0.6 AE_MOD=MODALITY1 AE_PACS=PACS_SCP
MPORT=$((20000 + $$ % 20000))
BPFFS=""

cleanup() {
    local rc=$?
    set +e
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
mkdir -p "$W/logs" "$W/out"
BPFFS=$W/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
PASSED=0 FAILED=0

e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" 10.217.0
e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_PACS" storescp --aetitle "$AE_PACS" -od "$W/out" 11112
e2e_wait_for 10 "storescp on :11112" e2e_port_listening "$NS_PACS" 11112 ||
    e2e_die "storescp did not start: $(cat "$W/logs/storescp.err")"

# ------------------------------------------------------------------ helpers
echo_once() {
    timeout 30 ip netns exec "$NS_MOD" echoscu -aet "$AE_MOD" -aec "$AE_PACS" "$PACS_IP" 11112 \
        >>"$W/logs/echo.log" 2>&1
}
count_events() { grep -c "\"event\":\"$2\"" "$1" 2>/dev/null || true; }
metrics() { ip netns exec "$NS_GW" curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }
# metric NAME LABELS-REGEX : the value of the first sample matching, or "".
metric() { metrics | awk -v n="$1" -v l="$2" '$1 ~ "^"n"({|$)" && $1 ~ l {print $2; exit}'; }
write_cfg() { # write_cfg PORTS PIN_ROOT [INTERFACES]
    cat >"$CFG" <<EOF
interfaces: [${3:-gw-mod, gw-pacs}]
detection:
  ports: [$1]
  any_port: false
state:
  pin_root: $2
metrics:
  listen: 127.0.0.1:$MPORT
table:
  status_socket: $W/status.sock
EOF
}
# start_dicomon NAME [--private] ARGS... : background daemon in the gateway, JSON
# on $W/NAME.jsonl; waits for ready or exit. Sets DPID, DEV, DERR. 0 if ready.
start_dicomon() {
    local name=$1 pre=()
    shift
    if [[ ${1:-} == --private ]]; then
        # A private mount namespace with its own bpffs, as `ip netns exec` gives:
        # the pins die with the daemon.
        mkdir -p "$W/priv-$name"
        pre=(unshare -m --propagation private sh -c
            'mount -t bpf bpf "$0" && exec "$@"' "$W/priv-$name")
        shift
    fi
    DEV=$W/$name.jsonl DERR=$W/logs/$name.err
    e2e_bg "dicomon-$name" "$DEV" "$DERR" \
        ip netns exec "$NS_GW" "${pre[@]}" "$DICOMON" run --json -v "$@"
    DPID=$E2E_LAST_PID
    up() { ! e2e_alive "$DPID" || grep -qs '"event":"ready"' "$DEV"; }
    e2e_wait_for 20 "dicomon ($name) ready or gone" up || true
    grep -qs '"event":"ready"' "$DEV"
}
# ready_check FILE : every hook in the ready event runs the program id the kernel shows.
ready_check() {
    local f=$1 iface want got
    for iface in gw-mod gw-pacs; do
        want=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "ready":
        print(next(i for i in e["interfaces"] if i["name"] == sys.argv[2])["programs"].get("xdp", ""))
        break' "$f" "$iface")
        got=$(ip -n "$NS_GW" -j link show dev "$iface" | python3 -c 'import json,sys
x = json.load(sys.stdin)[0].get("xdp", {})
print(x.get("prog", {}).get("id", x.get("attached", [{}])[0].get("prog", {}).get("id", "")))')
        [[ -n $want && $want == "$got" ]] || {
            e2e_log "$iface: ready says xdp program '$want', the kernel runs '$got'"
            return 1
        }
    done
}
pkts() { # dicomon's packet count on gw-mod, summed over classes
    metrics | awk '$1 ~ /^dicomon_packets_total\{interface="gw-mod"/ {s += $2} END {print s + 0}'
}

# ------------------------------------------------------------------ reload
CFG=$W/dicomon.yml
write_cfg "11112" "$BPFFS/a"
start_dicomon reload -c "$CFG" || e2e_die "dicomon (reload) not ready: $(cat "$DERR")"
RUN=$DEV PIDA=$DPID
echo 0 >"$W/made"
(
    n=0
    while [[ ! -e $W/stop ]]; do
        if echo_once; then n=$((n + 1)); echo "$n" >"$W/made"; fi
    done
) &
LOOP=$!
E2E_PIDS+=("$LOOP")
E2E_PIDNAMES+=(echo-loop)
# Two more interfaces for reloads 2-4: veth pairs inside the gateway, idle.
for x in x1 x2; do
    ip -n "$NS_GW" link add "gw-$x" type veth peer name "gw-${x}p"
    ip -n "$NS_GW" link set "gw-$x" up
    ip -n "$NS_GW" link set "gw-${x}p" up
done
FOUR="gw-mod, gw-pacs, gw-x1, gw-x2"
xdp_ids() { # the XDP program ids the kernel runs on gw-mod and gw-pacs
    local i
    for i in gw-mod gw-pacs; do
        ip -n "$NS_GW" -j link show dev "$i" | python3 -c 'import json,sys
x = json.load(sys.stdin)[0].get("xdp", {})
print(x.get("prog", {}).get("id", x.get("attached", [{}])[0].get("prog", {}).get("id", "")), end=" ")'
    done
}
# ports|interfaces|attachment changes the commit makes (XDP only: one per
# interface)|what else. "fail": gw-x2 deleted while the new program is
# prepared, so its link cannot move (the 4th move): the 3 moved go back.
STEPS=("11112, 104||2" "11112|$FOUR|4" "11112, 4242|$FOUR|4" "11112|$FOUR|4"
    "11112, 4242|$FOUR|7|fail" "11112, 104||4" "11112||2")
SENT=0
# reloaded : every SIGHUP sent so far has its reload event (the commit is done)
reloaded() { (($(grep -c '"event":"reload"' "$RUN" || true) >= SENT)); }
for st in "${STEPS[@]}"; do
    IFS='|' read -r ports ifs _ what <<<"$st"
    sleep 1.5
    # One reload at a time: the ids noted below must be those of a finished commit.
    e2e_wait_for 30 "reload $SENT done" reloaded || true
    write_cfg "$ports" "$BPFFS/a" "$ifs"
    SENT=$((SENT + 1))
    if [[ $what == fail ]]; then
        IDS_BEFORE=$(xdp_ids)
        n0=$(grep -c 'loading the new program in a thread' "$DERR" || true)
        kill -HUP "$PIDA"
        # Planned (gw-x2 existed then) and not yet committed: the thread verifies
        # the program and a device-bound copy per interface (0.1 s+ each), while
        # this polls every 10 ms for the plan's log line.
        for _ in $(seq 1000); do
            (($(grep -c 'loading the new program in a thread' "$DERR" || true) > n0)) && break
            sleep 0.01
        done
        ip -n "$NS_GW" link del gw-x2
        failed() { grep -qs '"event":"reload","ok":false' "$RUN"; }
        e2e_wait_for 10 "the reload failing" failed || true
        IDS_AFTER=$(xdp_ids)
        continue
    fi
    kill -HUP "$PIDA"
done
e2e_wait_for 30 "reload $SENT done" reloaded || true
sleep 1.5
touch "$W/stop"
wait "$LOOP" 2>/dev/null || true
MADE=$(cat "$W/made")
have_all() { (($(count_events "$RUN" flow_end) >= MADE)); }
e2e_wait_for 10 "$MADE flow_end records" have_all || true
RECS=$(count_events "$RUN" flow_end)
RELOADS=$(grep -c '"event":"reload","ok":true' "$RUN" || true)
SWAPS=$(grep -c 'new program attached everywhere' "$DERR" || true)
e2e_result "$((RELOADS == 6 && SWAPS == 6))" "reload: 7 SIGHUPs (2, 4, 4, 4, 4, 2, 2 interfaces), 6 reloads ok, 6 new programs swapped in" \
    "$RELOADS ok, $SWAPS swaps"
FAILS=$(grep -c '"event":"reload","ok":false,"error":"[^"]*the running configuration is unchanged' "$RUN" || true)
e2e_result "$([[ $FAILS == 1 && -n ${IDS_BEFORE// /} && $IDS_BEFORE == "$IDS_AFTER" ]] &&
    grep -q 'gw-x2: cannot move xdp' "$DERR" && grep -q 'every attachment back on the running program' "$DERR" &&
    echo 1 || echo 0)" \
    "reload: a move that fails (gw-x2 deleted meanwhile) is undone; reload failed, the kernel runs the old programs" \
    "$FAILS failed; gw-mod, gw-pacs xdp ids before $IDS_BEFORE, after $IDS_AFTER"
e2e_result "$((MADE > 40 && RECS == MADE))" "reload: every association made across the reloads has a record" \
    "$MADE made, $RECS flow_end"
# The restart window's arithmetic (docs/daemon.md): ring buffer records per association.
echo "    ring buffer events per association: $(metrics | awk -v n="$MADE" '$1 ~ /^dicomon_events_consumed_total/ && $2 > 0 {sub(/.*type="/, "", $1); sub(/"}/, "", $1); printf "%s=%.2f ", $1, $2 / n}')"

# The commit runs in steps, one attachment change per loop handler run, so the
# ring buffer is drained between them whatever the number of interfaces. What
# is asserted is that structure (counts from the reload events); the times are
# printed: one step is one kernel call (~10 ms for an XDP link on veth, more
# on a loaded machine), not a bound this shared machine can promise.
CHANGES=$(printf '%s\n' "${STEPS[@]}" | awk -F'|' '{printf "%s ", $3}')
# shellcheck disable=SC2086 # one argument per reload
# A failed reload's commit counts its moves back too (3 + 3, and the one refused).
python3 - "$RUN" $CHANGES >"$W/commits.txt" <<'PY' && ok=1 || ok=0
import json, sys
want = [int(x) for x in sys.argv[2:]]
evs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"reload"' in l]
bad = 0
for n, (e, w) in enumerate(zip(evs, want), 1):
    c = e.get("commit") or {}
    ok = c.get("max_attachment_changes_per_step") == 1 and c.get("steps", 0) >= w
    bad += not ok
    print("    reload %d: %d interfaces, %d changes: commit %d steps, %.1f ms (%.1f ms in steps), "
          "longest step %.1f ms (%s), at most %s change(s) per step%s"
          % (n, len(e["interfaces"]), w, c.get("steps", 0), c.get("seconds", 0) * 1e3,
             c.get("busy_seconds", 0) * 1e3, c.get("longest_step_seconds", 0) * 1e3,
             c.get("longest_step", "?"), c.get("max_attachment_changes_per_step"),
             "" if ok else "  <- not step-wise"))
sys.exit(1 if bad or len(evs) != len(want) else 0)
PY
cat "$W/commits.txt"
e2e_result "$ok" "reload: every commit moved at most one attachment per loop handler run (steps >= changes)"

# What verifies runs in the reload thread: the SIGHUP handler must stay short.
SIG_MAX=$(metric dicomon_loop_block_max_seconds signal)
SIG_SLOW=$(metric dicomon_loop_slow_runs_total signal)
echo "    loop handlers' longest runs (s):" \
    "$(metrics | awk '$1 ~ /^dicomon_loop_block_max_seconds/ {sub(/.*handler="/, "", $1); sub(/"}/, "", $1); printf "%s=%s ", $1, $2}')"
echo "    the longest commit step (reload_step): $(metric dicomon_loop_block_max_seconds reload_step) s," \
    "runs over 50 ms: $(metric dicomon_loop_slow_runs_total reload_step)"
e2e_result "$([[ $SIG_SLOW == 0 ]] && echo 1 || echo 0)" \
    "reload: the SIGHUP handler never blocked the loop over 50 ms (issue 13's goal, a bound)" \
    "signal max $SIG_MAX s, slow runs $SIG_SLOW"

# ------------------------------------------------------------------ takeover
LINK_A=$(bpftool link show pinned "$BPFFS/a/link:xdp:gw-mod" -j 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' || echo "")
PKTS_A=$(pkts)
kill -KILL "$PIDA"
wait "$PIDA" 2>/dev/null || true
write_cfg "11112" "$BPFFS/b"
start_dicomon takeover -c "$CFG" && ok=1 || ok=0
RUN=$DEV PIDB=$DPID
e2e_result "$ok" "takeover: a new daemon without the dead one's pins is ready"
STATE=$(python3 -c 'import json,sys
print(next(json.loads(l)["state"] for l in open(sys.argv[1]) if "\"ready\"" in l))' "$RUN" 2>/dev/null || echo "")
LINK_B=$(bpftool link show pinned "$BPFFS/b/link:xdp:gw-mod" -j 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' || echo "")
e2e_result "$([[ -n $LINK_A && $LINK_A == "$LINK_B" ]] && grep -q 'earlier dicomon still attached without pins' "$DERR" && echo 1 || echo 0)" \
    "takeover: the dead daemon's XDP link taken over" "link $LINK_A -> $LINK_B"
ready_check "$RUN" && ok=1 || ok=0
e2e_result "$ok" "takeover: the ready event's program ids are what the kernel runs"
PKTS_B=$(pkts)
e2e_result "$([[ $STATE == restored ]] && ((PKTS_B >= PKTS_A && PKTS_A > 0)) && echo 1 || echo 0)" \
    "takeover: state maps adopted through the running program (counters carried over)" \
    "state $STATE, packets $PKTS_A -> $PKTS_B"
N0=$(count_events "$RUN" flow_end)
echo_once || true
have_one() { (($(count_events "$RUN" flow_end) > N0)); }
e2e_wait_for 10 "a record after the takeover" have_one && ok=1 || ok=0
e2e_result "$ok" "takeover: an echo after it has a record"
e2e_stop "$PIDB" TERM 10 || true
rm -rf "$BPFFS/a" "$BPFFS/b"

# ------------------------------------------------------------------ private
write_cfg "11112" "$BPFFS/unused" # --pin-root below wins
start_dicomon private1 --private -c "$CFG" --pin-root "$W/priv-private1/p" || e2e_die "dicomon (private) not ready: $(cat "$DERR")"
echo_once || true
T0=$(date +%s.%N)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
start_dicomon private2 --private -c "$CFG" --pin-root "$W/priv-private2/p" && ok=1 || ok=0
T1=$(date +%s.%N)
RUN=$DEV
READY_S=$(python3 -c 'import json,sys
print(next(json.loads(l)["startup"]["ready_seconds"] for l in open(sys.argv[1]) if "\"ready\"" in l))' "$RUN" 2>/dev/null || echo "?")
echo "    kill -9 -> ready: $(python3 -c "print(round($T1 - $T0, 3))") s as the test polls it (0.1 s steps); the daemon's own start-up: $READY_S s"
e2e_result "$ok" "private: restarted at once in a private mount namespace, ready"
ready_check "$RUN" && ok=1 || ok=0
ATT=$(metrics | awk '$1 ~ /^dicomon_hook_attached/ {n++; s += $2} END {print s + 0 "/" n + 0}')
e2e_result "$([[ $ok == 1 && $ATT == 2/2 ]] && echo 1 || echo 0)" \
    "private: every hook runs the new daemon's own program (kernel's view)" "hook_attached $ATT"
P0=$(pkts)
echo_once || true
sleep 0.3
P1=$(pkts)
e2e_result "$((P1 > P0))" "private: its counters move with traffic" "gw-mod packets $P0 -> $P1"
e2e_stop "$DPID" TERM 10 || true

# ------------------------------------------------------------------ foreign
ip -n "$NS_GW" link set dev gw-mod xdp obj "$NOOP_OBJ" sec xdp
NOOP_ID=$(ip -n "$NS_GW" -j link show dev gw-mod | python3 -c 'import json,sys
x = json.load(sys.stdin)[0]["xdp"]; print(x.get("prog", {}).get("id", ""))')
write_cfg "11112" "$BPFFS/f"
start_dicomon foreign -c "$CFG" && ok=0 || ok=1
rc=0
e2e_stop "$DPID" TERM 5 || rc=$?
e2e_result "$([[ $ok == 1 && $rc == 3 ]] && echo 1 || echo 0)" "foreign: refused, exit 3" "exit $rc"
e2e_result "$(grep -q "holds program $NOOP_ID (noop_xdp), which is not dicomon's" "$DERR" && echo 1 || echo 0)" \
    "foreign: the error names the program (id $NOOP_ID, noop_xdp)"
e2e_result "$( ! grep -qs '"event":"ready"' "$DEV" && ! grep -qs watching "$DEV" && echo 1 || echo 0)" \
    "foreign: never ready, never watching"
e2e_result "$([[ -z $(ip -n "$NS_GW" -j link show dev gw-pacs | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("xdp", ""))') ]] && echo 1 || echo 0)" \
    "foreign: nothing left attached on gw-pacs"
ip -n "$NS_GW" link set dev gw-mod xdp off

# ------------------------------------------------------------------ detached
write_cfg "11112" "$BPFFS/d"
start_dicomon detached -c "$CFG" || e2e_die "dicomon (detached) not ready: $(cat "$DERR")"
PIDD=$DPID
LINK=$(bpftool link show pinned "$BPFFS/d/link:xdp:gw-mod" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
before=$(metric dicomon_hook_attached 'gw-mod.*xdp')
bpftool link detach id "$LINK"
gone() { [[ $(metric dicomon_hook_attached 'gw-mod.*xdp') == 0 ]]; }
e2e_wait_for 10 "hook_attached 0 for gw-mod" gone && ok=1 || ok=0
e2e_result "$([[ $ok == 1 && $before == 1 ]] && echo 1 || echo 0)" "detached: dicomon_hook_attached{gw-mod,xdp} 1 -> 0" \
    "before $before"
e2e_result "$(grep -q 'gw-mod: xdp: dicomon.s program is no longer attached' "$DERR" && echo 1 || echo 0)" \
    "detached: a warning says the hook is blind"
e2e_result "$([[ $(metric dicomon_hook_attached 'gw-pacs.*xdp') == 1 ]] && echo 1 || echo 0)" \
    "detached: gw-pacs still 1"
e2e_stop "$PIDD" TERM 10 || true

echo "restart: $PASSED passed, $FAILED failed"
((FAILED == 0))
