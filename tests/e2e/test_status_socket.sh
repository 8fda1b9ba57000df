#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The status socket is never taken over, and permission errors say so (issue 14).
# One namespace with a veth pair (va, vb), the test's own bpffs, no traffic:
#   - daemon A on va answers `dicomon status`; daemon B on vb with another pin
#     root but A's status socket is refused (exit 5, "in use by a running
#     dicomon (pid A)") before it attaches anything, and A keeps answering on
#     the same socket;
#   - after kill -9 of A its socket is stale: `dicomon status` says so, and a
#     new daemon C takes the path over (a stale socket is removed);
#   - as nobody (setpriv): `dicomon status` on C's socket, on the pinned maps,
#     and `dicomon detach` print "permission denied: PATH (run as root ...)"
#     and exit 7; as root, no such socket and no pins exits 4 ("is dicomon
#     running?").
#
#   sudo tests/e2e/test_status_socket.sh [DICOMON]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP, bpffs)"
e2e_need ip setpriv python3 mount umount timeout env stat
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found/executable: $DICOMON"
DICOMON=$(realpath "$DICOMON")

PFX="dmsock-$$"
NS=$PFX-ns
BPFFS=""
cleanup() {
    local rc=$?
    set +e
    (exit "$rc")
    e2e_cleanup_bpffs
    e2e_cleanup
}
e2e_cleanup_bpffs() {
    # Lazy: a daemon may still hold the directory; its pins go when it does.
    if [[ -n $BPFFS ]] && mountpoint -q "$BPFFS"; then umount -l "$BPFFS"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
chmod 0755 "$W" # nobody may reach $W/run, where the daemon's own modes decide
mkdir -p "$W/logs"
BPFFS=$W/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
SOCK=$W/run/status.sock
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
PASSED=0 FAILED=0

e2e_netns_add "$NS"
ip -n "$NS" link add va type veth peer name vb
ip -n "$NS" link set va up
ip -n "$NS" link set vb up

# start NAME IFACE : a daemon in the namespace on IFACE, pins under $BPFFS/NAME,
# status socket $SOCK. Sets DPID; 0 when ready.
start() {
    local name=$1 dev=$2
    e2e_bg "dicomon-$name" "$W/$name.jsonl" "$W/logs/$name.err" \
        ip netns exec "$NS" "$DICOMON" run --json -i "$dev" --pin-root "$BPFFS/$name" \
        -o "table.status_socket=$SOCK"
    DPID=$E2E_LAST_PID
    up() { ! e2e_alive "$DPID" || grep -qs '"event":"ready"' "$W/$name.jsonl"; }
    e2e_wait_for 20 "dicomon ($name) ready or gone" up || true
    grep -qs '"event":"ready"' "$W/$name.jsonl"
}
# status_pid : the pid of the daemon answering on $SOCK ("" if none answers).
status_pid() {
    "$DICOMON" status --json --socket "$SOCK" --pin-root "$W/none" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["pid"])' 2>/dev/null || true
}
xdp_on() { ip -n "$NS" -d link show "$1" | grep -q 'prog/xdp'; }

# ------------------------------------------------------------------ take-over refused
start a va || e2e_die "daemon A not ready: $(cat "$W/logs/a.err")"
PID_A=$DPID
INODE_A=$(stat -c %i "$SOCK")
got=$(status_pid)
e2e_result $(([[ $got == "$PID_A" ]] && echo 1) || echo 0) "status: daemon A answers" "pid '$got', A is $PID_A"

RC=0
timeout 30 ip netns exec "$NS" "$DICOMON" run --json -i vb --pin-root "$BPFFS/b" \
    -o "table.status_socket=$SOCK" >"$W/b.jsonl" 2>"$W/logs/b.err" || RC=$?
e2e_result $((RC == 5)) "take-over: a second daemon on the same status socket exits 5" "rc=$RC"
ok=0; grep -q "status socket $SOCK is in use by a running dicomon (pid $PID_A" "$W/logs/b.err" && ok=1
e2e_result "$ok" "take-over: its message names the socket and the running daemon's pid" "$(cat "$W/logs/b.err")"
ok=1; xdp_on vb && ok=0; [[ -e $BPFFS/b/dm_flows ]] && ok=0
e2e_result "$ok" "take-over: refused before it attached or pinned anything"
ok=0; e2e_alive "$PID_A" && [[ $(stat -c %i "$SOCK") == "$INODE_A" ]] && ok=1
e2e_result "$ok" "take-over: daemon A still runs, its socket (same inode) still there"
got=$(status_pid)
e2e_result $(([[ $got == "$PID_A" ]] && echo 1) || echo 0) "take-over: dicomon status still answered by A" "pid '$got'"

# ------------------------------------------------------------------ stale socket
e2e_stop "$PID_A" KILL 5 2>/dev/null || true
RC=0
"$DICOMON" status --socket "$SOCK" --pin-root "$W/none" >/dev/null 2>"$W/logs/stale.err" || RC=$?
ok=0; ((RC == 4)) && grep -q "a stale socket" "$W/logs/stale.err" && grep -q "is dicomon running" "$W/logs/stale.err" && ok=1
e2e_result "$ok" "stale: after kill -9 status says the socket is stale (exit 4)" "rc=$RC $(cat "$W/logs/stale.err")"
start c vb || e2e_die "daemon C not ready on a stale socket: $(cat "$W/logs/c.err")"
PID_C=$DPID
got=$(status_pid)
e2e_result $(([[ $got == "$PID_C" ]] && echo 1) || echo 0) "stale: a new daemon removes the stale socket and answers" "pid '$got'"

# ------------------------------------------------------------------ permission errors
RC=0
"${NOBODY[@]}" "$DICOMON" status --socket "$SOCK" --pin-root "$BPFFS/c" >/dev/null 2>"$W/logs/perm.err" || RC=$?
ok=0; ((RC == 7)) && grep -q "permission denied: $SOCK (run as root" "$W/logs/perm.err" &&
    ! grep -q "is dicomon running" "$W/logs/perm.err" && ok=1
e2e_result "$ok" "permission: status as nobody says permission denied (exit 7)" "rc=$RC $(cat "$W/logs/perm.err")"
RC=0
"${NOBODY[@]}" "$DICOMON" status --socket "$W/none.sock" --pin-root "$BPFFS/c" >/dev/null 2>"$W/logs/perm-pins.err" || RC=$?
ok=0; ((RC == 7)) && grep -q "permission denied: $BPFFS/c/dm_flows (" "$W/logs/perm-pins.err" && ok=1
e2e_result "$ok" "permission: the pinned-maps fallback as nobody says permission denied (exit 7)" \
    "rc=$RC $(cat "$W/logs/perm-pins.err")"
RC=0
"${NOBODY[@]}" "$DICOMON" detach --pin-root "$BPFFS/c" >/dev/null 2>"$W/logs/perm-detach.err" || RC=$?
ok=0; ((RC == 7)) && grep -q "permission denied: $BPFFS/c (run as root" "$W/logs/perm-detach.err" && ok=1
e2e_result "$ok" "permission: detach as nobody says permission denied (exit 7)" "rc=$RC $(cat "$W/logs/perm-detach.err")"
ok=0; xdp_on vb && e2e_alive "$PID_C" && ok=1
e2e_result "$ok" "permission: daemon C untouched (still attached and running)"
RC=0
"$DICOMON" status --socket "$W/none.sock" --pin-root "$W/none" >/dev/null 2>"$W/logs/none.err" || RC=$?
ok=0; ((RC == 4)) && grep -q "no such socket" "$W/logs/none.err" && grep -q "is dicomon running" "$W/logs/none.err" && ok=1
e2e_result "$ok" "not running: no socket and no pins exits 4, 'is dicomon running?'" "rc=$RC $(cat "$W/logs/none.err")"

RC=0; e2e_stop "$PID_C" TERM 10 || RC=$?
ok=0; ((RC == 0)) && [[ ! -e $SOCK ]] && ok=1
e2e_result "$ok" "stop: daemon C exits 0 and removes its socket" "rc=$RC"

echo "status_socket: $PASSED passed, $FAILED failed"
((FAILED == 0))
