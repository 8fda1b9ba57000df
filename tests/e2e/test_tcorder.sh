#!/usr/bin/env bash
# Functions handed to e2e_wait_for are invoked indirectly.
# shellcheck disable=SC2317
# End-to-end test: dicomon's TC programs run first on their hooks, and what
# gets ahead of them is reported (a program that ends the hook before dicomon's
# hides the traffic from it).
#
#   modality ns (10.222.0.2) --veth-- [gw-mod  GATEWAY ns  gw-pacs] --veth-- pacs ns (10.222.0.6)
#                                      10.222.0.1          10.222.0.5
#   pacs: storescp :11112. dicomon watches TC ingress of gw-mod and gw-pacs.
#
# The foreign programs: tc_pass.bpf.o (TC_ACT_OK as a direct-action clsact
# filter) and tcx_prog.py (a tcx link to "r0 = 0" = TCX_PASS). Pins go to a
# bpffs of the test's own on <scratch>/bpffs (see test_daemon.sh).
#
# Usage (as root):
#   tests/e2e/test_tcorder.sh [--keep] [DICOMON]
#     DICOMON      dicomon binary (default: $DICOMON, else <repo>/.output/dicomon)
#     TC_PASS_OBJ  (env) default <dicomon's dir>/tests/tc_pass.bpf.o
# Cases:
#   clsact   a foreign filter at tc's default priority on both hooks, then
#            dicomon --tc-mode clsact: its filter is at pref 1 and an echo
#            gets its flow_end with the AE titles; nothing reported ahead.
#   ahead    a foreign bpf filter added at pref 1 while dicomon runs (runs
#            first): within 15 s the warning and dicomon_tc_programs_ahead 1;
#            an echo is hidden; removed: the gauge back to 0, echoes seen.
#   tcx      (6.6+) a foreign tcx program attached first, then dicomon --tc-mode tcx:
#            dicomon's program runs first (tcx query), the echo is recorded;
#            a second foreign program put in front is reported; after kill -9
#            and a restart the pinned link is moved in front of it again.
#   migrate  a filter at handle 0xd1c0 pref 0xd1c0 running the pinned program,
#            as versions before priority 1 left it: removed on start (one
#            filter left, at pref 1, nothing counted twice) and by `dicomon
#            detach`; with a u32 classifier holding pref 1, dicomon falls back
#            to pref 0xd1c0 with a warning naming it, and the next start after
#            the u32 is gone moves it to pref 1 (the old one found by name).
# The last line printed is "tcorder: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

e2e_args "" "$@"

[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, tc, tcx, bpffs)"
e2e_need ip tc ss python3 echoscu storescp curl bpftool mount umount timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found/executable: $DICOMON"
DICOMON=$(realpath "$DICOMON")
TC_PASS=${TC_PASS_OBJ:-$(dirname "$DICOMON")/tests/tc_pass.bpf.o}
[[ -r $TC_PASS ]] || e2e_die "foreign TC program not found: $TC_PASS (make <output>/tests/tc_pass.bpf.o)"
TCX_PROG=$HERE/tcx_prog.py

PFX="dmtco-$$"
NS_MOD="$PFX-mod" NS_GW="$PFX-gw" NS_PACS="$PFX-pacs"
MOD_IP=10.222.0.2 PACS_IP=10.222.0.6
PORT=11112 AE_MOD=MODALITY1 AE_PACS=PACS_SCP
METRICS=127.0.0.1:9479
DEVS=(gw-mod gw-pacs)
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

# ------------------------------------------------------------------ topology
e2e_gateway "$NS_MOD" "$NS_GW" "$NS_PACS" 10.222.0
e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
    ip netns exec "$NS_PACS" storescp --aetitle "$AE_PACS" -od "$W/out" "$PORT"
e2e_wait_for 10 "storescp on :$PORT" e2e_port_listening "$NS_PACS" "$PORT" ||
    e2e_die "storescp did not start: $(cat "$W/logs/storescp.err")"

# ------------------------------------------------------------------ helpers
client_ports() {
    {
        ip netns exec "$NS_MOD" ss -Htan "dst $PACS_IP:$PORT" | awk '{split($4, a, ":"); print a[2]}'
        ip netns exec "$NS_PACS" ss -Htan "src $PACS_IP:$PORT" "dst $MOD_IP" | awk '{split($5, a, ":"); print a[2]}'
    } | sort -u
}

# echo_once TAG : one C-ECHO modality -> pacs; ECHO_PORT = its client port ("" if unknown)
echo_once() {
    local before rc=0 new
    before=$(client_ports)
    timeout 30 ip netns exec "$NS_MOD" echoscu -aet "$AE_MOD" -aec "$AE_PACS" "$PACS_IP" "$PORT" \
        >"$W/logs/echo-$1.log" 2>&1 || rc=$?
    new=$(comm -13 <(echo "$before") <(client_ports) | grep . || true)
    ECHO_PORT=$([[ $(wc -w <<<"$new") == 1 ]] && echo "$new" || echo "")
    ((rc == 0 && ${#ECHO_PORT} > 0)) || e2e_log "echo $1: rc=$rc ports '$new': $(tail -n 3 "$W/logs/echo-$1.log")"
}

# flow_ends EVENTS PORT [any] : how many flow_end records of client port PORT carry
# both AE titles (with "any": how many there are at all)
flow_ends() {
    python3 - "$1" "$2" "$AE_MOD" "$AE_PACS" "${3:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") != "flow_end" or e.get("sport") != int(sys.argv[2] or 0):
        continue
    if sys.argv[5] == "any" or (e.get("dport") == 11112 and e.get("calling_ae") == sys.argv[3]
                                and e.get("called_ae") == sys.argv[4]
                                and e.get("state") == "released"):
        n += 1
print(n)
PY
}

# echo_seen TAG EVENTS : an echo, PASS if dicomon records it whole (once)
echo_seen() {
    local n=0
    echo_once "$1"
    have_end() { (($(flow_ends "$2" "$ECHO_PORT") >= 1)); }
    e2e_wait_for 10 "flow_end of the $1 echo" have_end "$1" "$2" || true
    [[ -n $ECHO_PORT ]] && n=$(flow_ends "$2" "$ECHO_PORT")
    e2e_result $((n == 1)) "$1: the echo's flow_end, with both AE titles" \
        "port '$ECHO_PORT', $n records; $(grep -c flow_end "$2" || true) flow_ends in all"
}

start() { # start NAME DICOMON-OPTION... : sets DPID, DEV (events), DERR
    local name=$1
    shift
    DEV=$W/$name.jsonl DERR=$W/logs/$name.err
    e2e_dicomon_start "dicomon-$name" "$NS_GW" "$DEV" "$DERR" "$DICOMON" run \
        -i gw-mod -i gw-pacs --json -v --xdp-mode off --tc-ingress -o "metrics.listen=$METRICS" \
        -o "table.status_socket=$W/status-$name.sock" "$@"
    DPID=$E2E_DICOMON_PID
}

stop() { # stop [SIGNAL] : stop the daemon, PASS on exit 0 (SIGINT)
    local rc=0
    e2e_stop "$DPID" "${1:-INT}" 10 2>/dev/null || rc=$?
    [[ ${1:-INT} == KILL ]] || e2e_result $((rc == 0)) "$(basename "$DEV" .jsonl): dicomon exits 0" "rc=$rc"
}

scrape() { ip netns exec "$NS_GW" curl -s --max-time 5 "http://$METRICS/metrics"; }
# gauge DEV : dicomon_tc_programs_ahead of DEV's tc_ingress ("" if absent)
gauge() {
    scrape | awk -v s="dicomon_tc_programs_ahead{interface=\"$1\",hook=\"tc_ingress\"}" \
        '$1 == s {print $2}'
}
gauge_is() { [[ $(gauge "$1") == "$2" ]]; }

filters() { tc -n "$NS_GW" filter show dev "$1" ingress; }
# ours_at DEV PREF : how many of dicomon's filters (handle 0xd1c0) are at PREF
ours_at() { filters "$1" | grep -c "pref $2 bpf chain 0 handle 0xd1c0 " || true; }
ours() { filters "$1" | grep -c "handle 0xd1c0 " || true; }
# foreign_add DEV [PREF] : the TC_ACT_OK filter (direct-action) on DEV's ingress
foreign_add() {
    tc -n "$NS_GW" qdisc add dev "$1" clsact 2>/dev/null || true
    tc -n "$NS_GW" filter add dev "$1" ingress ${2:+prio "$2"} bpf da obj "$TC_PASS" sec tc
}
# foreign_del DEV PREF : the foreign filters at PREF (not dicomon's)
foreign_del() {
    local h
    for h in $(filters "$1" | awk -v p="$2" '$5 == p && /handle/ {
            for (i = 1; i < NF; i++) if ($i == "handle" && $(i + 1) != "0xd1c0") print $(i + 1) }'); do
        tc -n "$NS_GW" filter del dev "$1" ingress prio "$2" handle "$h" bpf
    done
}
reset_hooks() {
    local d
    for d in "${DEVS[@]}"; do tc -n "$NS_GW" qdisc del dev "$d" clsact 2>/dev/null || true; done
}
# tcx_foreign NAME DEV [--before] : a foreign tcx program held by a background process
tcx_foreign() {
    local name=$1 out=$W/logs/tcx-$1.out
    shift
    e2e_bg "tcx-$name" "$out" "$W/logs/tcx-$name.err" ip netns exec "$NS_GW" python3 "$TCX_PROG" attach \
        "$1" ingress "${@:2}"
    TCX_PID=$E2E_LAST_PID
    e2e_wait_for 10 "tcx program $name" grep -q attached "$out" ||
        e2e_die "tcx_prog.py $name: $(cat "$W/logs/tcx-$name.err")"
    TCX_ID=$(sed -n 's/^attached prog_id=//p' "$out")
}
tcx_order() { ip netns exec "$NS_GW" python3 "$TCX_PROG" query "$1" ingress; }
# prog_name ID : the program's name (bpftool gives it whole, from BTF)
prog_name() { bpftool prog show id "$1" 2>/dev/null | awk 'NR == 1 {print $4}'; }
# ready_ahead EVENTS : the ready line's tc_ingress_ahead per interface
ready_ahead() {
    python3 -c 'import json, sys
for l in open(sys.argv[1]):
    if "\"ready\"" in l:
        print(" ".join("%s=%s" % (i["name"], i.get("tc_ingress_ahead")) for i in json.loads(l)["interfaces"]))' "$1"
}

# ================================================================== clsact
e2e_log "case clsact"
for d in "${DEVS[@]}"; do foreign_add "$d"; done
start clsact --tc-mode clsact
for d in "${DEVS[@]}"; do
    e2e_result $(($(ours_at "$d" 1) == 1 && $(ours "$d") == 1)) "clsact: $d: dicomon's filter at pref 1" "$(filters "$d")"
done
r=$(ready_ahead "$DEV")
ok=0; [[ $r == "gw-mod=0 gw-pacs=0" ]] && ok=1
e2e_result "$ok" "clsact: ready line: nothing ahead" "$r"
echo_seen clsact "$DEV"
ok=1; for d in "${DEVS[@]}"; do gauge_is "$d" 0 || ok=0; done
e2e_result "$ok" "clsact: dicomon_tc_programs_ahead 0 on both interfaces" "$(scrape | grep tc_programs_ahead)"
ok=1; grep -q "ahead of dicomon" "$DERR" && ok=0
e2e_result "$ok" "clsact: no warning about programs ahead" "$(grep ahead "$DERR")"

# ================================================================== ahead
e2e_log "case ahead"
for d in "${DEVS[@]}"; do foreign_add "$d" 1; done
warned() { grep -q "gw-mod: tc_ingress: 1 program runs ahead of dicomon's clsact filter: bpf filter pref 1 handle .*(tc_pass.bpf.o:\[tc\], program id [0-9]*, direct-action).*hides packets from dicomon" "$DERR"; }
ok=0; e2e_wait_for 15 "warning about the filter ahead" warned && ok=1
e2e_result "$ok" "ahead: warning within 15 s names interface, hook, filter, verdict" "$(grep -i ahead "$DERR" | head -n 3)"
ok=0; e2e_wait_for 5 "gauge 1" gauge_is gw-mod 1 && gauge_is gw-pacs 1 && ok=1
e2e_result "$ok" "ahead: dicomon_tc_programs_ahead 1 on both interfaces" "$(scrape | grep tc_programs_ahead)"
echo_once ahead
sleep 3
n=$(flow_ends "$DEV" "$ECHO_PORT" any)
e2e_result $((${#ECHO_PORT} > 0 && n == 0)) "ahead: the filter ahead hides an echo from dicomon" "port '$ECHO_PORT', $n flow_ends"
for d in "${DEVS[@]}"; do foreign_del "$d" 1; done
ok=0; e2e_wait_for 15 "gauge 0" gauge_is gw-mod 0 && gauge_is gw-pacs 0 && ok=1
e2e_result "$ok" "ahead: removed, dicomon_tc_programs_ahead back to 0" "$(scrape | grep tc_programs_ahead)"
ok=0; grep -q "gw-mod: tc_ingress: nothing runs ahead of dicomon's program any more" "$DERR" && ok=1
e2e_result "$ok" "ahead: an info line says so" "$(grep -i ahead "$DERR" | tail -n 2)"
echo_seen ahead-removed "$DEV"
stop
ok=1; for d in "${DEVS[@]}"; do (($(ours "$d") == 0)) || ok=0; filters "$d" | grep -q 'pref 49152 bpf .*tc_pass' || ok=0; done
e2e_result "$ok" "ahead: dicomon's filters gone at exit, the foreign ones left" "$(filters gw-mod)"

# ================================================================== tcx
tcx_case() {
    e2e_log "case tcx"
    reset_hooks
    tcx_foreign first gw-mod
    FIRST=$TCX_ID FIRST_PID=$TCX_PID
    tcx_foreign first-pacs gw-pacs
    FIRST_PACS_PID=$TCX_PID
    PIN_T=$BPFFS/t
    start tcx --tc-mode tcx --pin-root "$PIN_T"
    read -r -a order <<<"$(tcx_order gw-mod)"
    ok=0; ((${#order[@]} == 2)) && [[ ${order[1]} == "$FIRST" && $(prog_name "${order[0]}") == dicomon_tc_ingress ]] && ok=1
    e2e_result "$ok" "tcx: dicomon's program runs before the one attached earlier" "order ${order[*]}, foreign $FIRST"
    echo_seen tcx "$DEV"
    ok=0; gauge_is gw-mod 0 && gauge_is gw-pacs 0 && ! grep -q "ahead of dicomon" "$DERR" && ok=1
    e2e_result "$ok" "tcx: nothing reported ahead" "$(scrape | grep tc_programs_ahead) $(grep ahead "$DERR")"
    tcx_foreign front gw-mod --before
    FRONT=$TCX_ID
    warned() { grep -q "gw-mod: tc_ingress: 1 program runs ahead of dicomon's tcx program: tcx program foreign_tcx, id $FRONT\\." "$DERR"; }
    ok=0; e2e_wait_for 15 "warning about the tcx program ahead" warned && gauge_is gw-mod 1 && ok=1
    e2e_result "$ok" "tcx: a program put in front is reported (warning, gauge 1)" "$(grep -i ahead "$DERR" | head -n 2) $(scrape | grep tc_programs_ahead)"
    stop KILL
    tcx_order gw-mod >"$W/logs/order-killed"
    start tcx2 --tc-mode tcx --pin-root "$PIN_T"
    read -r -a order <<<"$(tcx_order gw-mod)"
    ok=0; grep -q "gw-mod: tc_ingress: the previous run's tcx link replaced by one in front of the 1 program(s)" "$DERR" &&
        ((${#order[@]} == 3)) && [[ $(prog_name "${order[0]}") == dicomon_tc_ingress ]] && ok=1
    e2e_result "$ok" "tcx: a restart takes the pinned link over and moves it in front" \
        "before $(cat "$W/logs/order-killed"), after ${order[*]}: $(grep -i 'gw-mod: tc_ingress' "$DERR" | head -n 3)"
    echo_seen tcx-restart "$DEV"
    stop
    e2e_stop "$TCX_PID" TERM 5 || true
    e2e_stop "$FIRST_PID" TERM 5 || true
    e2e_stop "$FIRST_PACS_PID" TERM 5 || true
}
if python3 "$TCX_PROG" probe >/dev/null; then
    tcx_case
else
    echo "SKIP tcx: this kernel ($(uname -r)) has no tcx"
fi

# ================================================================== migrate
e2e_log "case migrate"
reset_hooks
PIN_M=$BPFFS/m
# as_old DEV : the filter where versions before priority 1 put it, running the pinned program
as_old() {
    tc -n "$NS_GW" filter add dev "$1" ingress prio 0xd1c0 handle 0xd1c0 bpf da \
        object-pinned "$PIN_M/clsact:tc_ingress:$1"
}
start mig1 --tc-mode clsact --pin-root "$PIN_M"
stop KILL
for d in "${DEVS[@]}"; do
    as_old "$d"
    tc -n "$NS_GW" filter del dev "$d" ingress prio 1 handle 0xd1c0 bpf
done
ok=1; for d in "${DEVS[@]}"; do (($(ours_at "$d" 53696) == 1 && $(ours "$d") == 1)) || ok=0; done
e2e_result "$ok" "migrate: set up as the old version left it (pref 0xd1c0 only)" "$(filters gw-mod)"
start mig2 --tc-mode clsact --pin-root "$PIN_M"
ok=1; for d in "${DEVS[@]}"; do (($(ours_at "$d" 1) == 1 && $(ours "$d") == 1)) || ok=0; done
grep -q "gw-mod: tc_ingress: removed dicomon's filter at the old priority 0xd1c0" "$DERR" || ok=0
e2e_result "$ok" "migrate: on start the old filter is removed, one left at pref 1" "$(filters gw-mod) $(grep -i 'old priority' "$DERR")"
echo_seen migrate "$DEV"
kill -USR1 "$DPID"
e2e_wait_for 5 "stats line" grep -q '"event":"stats"' "$DEV" || true
rt=$(grep '"event":"stats"' "$DEV" | tail -n 1 | python3 -c 'import json, sys
c = json.load(sys.stdin)["total"]["counters"]
print(c.get("retransmits", 0), c.get("partial_retransmits", 0))  # zeros are left out' || echo "? ?")
ok=0; [[ $rt == "0 0" ]] && ok=1
e2e_result "$ok" "migrate: nothing seen twice (no retransmissions counted)" "retransmits, partial: $rt"
stop KILL
for d in "${DEVS[@]}"; do as_old "$d"; done
ok=1; for d in "${DEVS[@]}"; do (($(ours "$d") == 2)) || ok=0; done
e2e_result "$ok" "migrate: old and new filter both there before detach" "$(filters gw-mod)"
RC=0; ip netns exec "$NS_GW" "$DICOMON" detach --pin-root "$PIN_M" 2>"$W/logs/detach.err" || RC=$?
ok=1; for d in "${DEVS[@]}"; do (($(ours "$d") == 0)) || ok=0; done
e2e_result $((ok && RC == 0)) "migrate: dicomon detach removes both (pref 1 and 0xd1c0)" "rc=$RC $(filters gw-mod) $(cat "$W/logs/detach.err")"
# Priority 1 taken by another kind of classifier: the old priority, with a warning.
reset_hooks
tc -n "$NS_GW" qdisc add dev gw-mod clsact
tc -n "$NS_GW" filter add dev gw-mod ingress prio 1 protocol all u32 match u32 0 0
start fallback --tc-mode clsact --pin-root "$PIN_M"
ok=0; (($(ours_at gw-mod 53696) == 1 && $(ours_at gw-pacs 1) == 1)) &&
    grep -q "gw-mod: tc_ingress: priority 1 refused (Invalid argument: a u32 filter holds it); using priority 0xd1c0" "$DERR" && ok=1
e2e_result "$ok" "fallback: u32 at pref 1: dicomon at pref 0xd1c0 with a warning naming it" "$(filters gw-mod) $(grep -i priority "$DERR" | head -n 2)"
ok=0; grep -q "gw-mod: tc_ingress: 1 program runs ahead of dicomon's clsact filter: u32 classifier pref 1" "$DERR" && gauge_is gw-mod 1 && ok=1
e2e_result "$ok" "fallback: the u32 classifier is reported ahead" "$(grep -i ahead "$DERR" | head -n 2) $(scrape | grep tc_programs_ahead)"
stop KILL
tc -n "$NS_GW" filter del dev gw-mod ingress prio 1
# Without its pin the old filter is recognised by its program's name (dicomon_tc_*).
rm -f "$PIN_M/clsact:tc_ingress:gw-mod"
start fallback2 --tc-mode clsact --pin-root "$PIN_M"
ok=0; (($(ours_at gw-mod 1) == 1 && $(ours gw-mod) == 1)) &&
    grep -q "gw-mod: tc_ingress: removed dicomon's filter at the old priority" "$DERR" && ok=1
e2e_result "$ok" "fallback: u32 gone, the next start moves to pref 1 and removes the old one" "$(filters gw-mod)"
echo_seen fallback2 "$DEV"
stop
ok=1; for d in "${DEVS[@]}"; do (($(ours "$d") == 0)) || ok=0; done
e2e_result "$ok" "fallback: no filter of dicomon's left after exit" "$(filters gw-mod)"

echo "tcorder: $PASSED passed, $FAILED failed"
((FAILED == 0))
