#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# How long `dicomon run` takes to load its programs, attach and be ready, on
# 1 and 4 interfaces (veth pairs in a network namespace this script makes),
# with XDP only (the default) and with XDP plus TC ingress and egress.
#
#   tests/bench/load_bench.sh [-r RUNS] [-n "1 4"] [-o TSV] [DICOMON]
#
# dicomon reports the three times itself in its {"event":"ready"} line
# (startup.load_seconds, attach_seconds, ready_seconds; CLOCK_MONOTONIC from
# the start of `run`). Each run starts from nothing: its own namespace, hence
# its own bpffs with no pins. Prints one line per case with the median of
# RUNS (default 3) and the kernel and CPU; -o also writes them as TSV
# (interfaces, hooks, load, attach, ready). Needs root.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../e2e/lib.sh
source "$REPO/tests/e2e/lib.sh"

RUNS=3 COUNTS="1 4" TSV="" DICOMON=${DICOMON:-$REPO/.output/dicomon}
while (($#)); do
	case $1 in
		-r) RUNS=${2:?}; shift ;;
		-n) COUNTS=${2:?}; shift ;;
		-o) TSV=${2:?}; shift ;;
		-h | --help) sed -n '/^# How long/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
		-*) e2e_die "unknown option $1" ;;
		*) DICOMON=$1 ;;
	esac
	shift
done
[[ $EUID -eq 0 ]] || e2e_die "must run as root"
[[ -x $DICOMON ]] || e2e_die "no dicomon binary at $DICOMON (make)"
DICOMON=$(realpath "$DICOMON")
e2e_need ip python3

trap e2e_cleanup EXIT
E2E_TMP=$(mktemp -d "/tmp/dmload-$$.XXXXXX")
W=$E2E_TMP
NS="dmload-$$"
e2e_netns_add "$NS"
MAXN=$(tr ' ' '\n' <<<"$COUNTS" | sort -n | tail -n 1)
for ((i = 0; i < MAXN; i++)); do
	ip -n "$NS" link add "ld$i" type veth peer name "ld${i}p"
	ip -n "$NS" link set "ld$i" up
	ip -n "$NS" link set "ld${i}p" up
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "load: kernel $(uname -r), $cpu, $(nproc) CPUs, median of $RUNS runs"
[[ -n $TSV ]] && printf 'interfaces\thooks\tload_s\tattach_s\tready_s\n' >"$TSV"

# one_run N HOOKS : the startup object of one fresh daemon, as JSON
one_run() {
	local n=$1 hooks=$2 args=() i ev=$W/ev.jsonl err=$W/err rc=0
	for ((i = 0; i < n; i++)); do args+=(-i "ld$i"); done
	[[ $hooks == xdp+tc ]] && args+=(--tc-ingress --tc-egress)
	: >"$ev"
	e2e_dicomon_start dicomon-load "$NS" "$ev" "$err" "$DICOMON" run --json "${args[@]}" \
		-o "table.status_socket=$W/status.sock"
	e2e_stop "$E2E_DICOMON_PID" INT 10 || rc=$?
	((rc == 0)) || e2e_die "dicomon exit status $rc: $(tail -n 3 "$err")"
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "ready":
        print(json.dumps(e["startup"])); break' "$ev"
}

for hooks in xdp xdp+tc; do
	for n in $COUNTS; do
		: >"$W/runs"
		for ((r = 0; r < RUNS; r++)); do one_run "$n" "$hooks" >>"$W/runs"; done
		python3 - "$W/runs" "$n" "$hooks" "${TSV:-/dev/null}" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
n, hooks = sys.argv[2], sys.argv[3]
med = {k: statistics.median(r[k] for r in runs) for k in ("load_seconds", "attach_seconds", "ready_seconds")}
print("load: %s interface%s, %-6s  load %.3f s  attach %.3f s  ready %.3f s" % (
    n, "" if n == "1" else "s", hooks, med["load_seconds"], med["attach_seconds"], med["ready_seconds"]))
with open(sys.argv[4], "a") as f:
    f.write("%s\t%s\t%.3f\t%.3f\t%.3f\n" % (n, hooks, med["load_seconds"], med["attach_seconds"], med["ready_seconds"]))
PY
	done
done
