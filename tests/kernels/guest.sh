#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The suite that tests/kernels/run.sh runs inside each booted kernel, as PID 1
# of a root that is the host's (read-only 9p) under a tmpfs overlay. Results
# go to /dicomon-results (a writable 9p share, the host's OUT/KERNEL):
#   results.tsv       STEP <tab> PASS|FAIL|SKIP <tab> seconds <tab> detail
#   STEP.log          what the step printed
#   version.json      dicomon version --json
#   load.tsv          load-and-attach times (tests/bench/load_bench.sh)
#   replay/NAME.*     dicomon replay output per committed capture (run.sh
#                     compares them with the host's)
#   done              written last: the suite ran to its end
# Usage (from init.sh): guest.sh SUITE, SUITE = ci | full | STEP[,STEP...]:
#   ci    version (its load check), bpf (the BPF_PROG_TEST_RUN tests), replay
#         (every committed capture; run.sh compares the records with the
#         host's), adversarial (the evasion captures checked against their
#         expected records), load (load-and-attach time), and the live e2e scripts that
#         exercise what differs between kernels: dcmtk (DCMTK associations
#         through XDP and TC, checked against tshark), vlan (stripped tags: the
#         RX VLAN kfunc or its fallback), tcorder (TC ordering: tcx or clsact),
#         daemon (restart, reload, exactly three capabilities, clsact)
#   full  ci + the other e2e scripts (assoc, scanner, rules, dicomweb, prometheus)
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RES=/dicomon-results
OUT=${OUTPUT:-$REPO/.output}
DICOMON=$OUT/dicomon
SUITE=${1:-ci}

# ---- a sane root: fresh /run, /tmp, bpffs; the host's leftovers stay hidden
mount -t tmpfs -o mode=0755 tmpfs /run
# A fresh /tmp, unless the tree lives there (a checkout in /tmp): writes go to
# the overlay's tmpfs either way, never to the host.
[[ $REPO == /tmp/* ]] || mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/shm /dev/pts && mount -t tmpfs tmpfs /dev/shm && mount -t devpts devpts /dev/pts
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
hostname "dicomon-$(uname -r)" 2>/dev/null
ulimit -l unlimited
ulimit -n 65536
cd "$REPO" || exit 1

# step NAME CMD... : run CMD with its output in RES/NAME.log, record the result.
step() {
	local name=$1 rc t0 t1 secs detail
	shift
	echo "== $name: $*" >/dev/console
	t0=${EPOCHREALTIME/./}
	"$@" >"$RES/$name.log" 2>&1
	rc=$?
	t1=${EPOCHREALTIME/./}
	secs=$(printf '%d.%d' $(((t1 - t0) / 1000000)) $(((t1 - t0) / 100000 % 10)))
	detail=$(tail -n 1 "$RES/$name.log" | tr '\t' ' ' | cut -c1-200)
	if ((rc == 0)); then
		printf '%s\tPASS\t%s\t%s\n' "$name" "$secs" "$detail" >>"$RES/results.tsv"
	elif ((rc == 77)); then
		printf '%s\tSKIP\t%s\t%s\n' "$name" "$secs" "$detail" >>"$RES/results.tsv"
	else
		printf '%s\tFAIL\t%s\t%s (exit %d)\n' "$name" "$secs" "$detail" "$rc" >>"$RES/results.tsv"
	fi
	echo "== $name: exit $rc ($(tail -n 1 "$RES/$name.log" | cut -c1-160))" >/dev/console
	return 0
}

# ---- the steps
# dicomon version, whose load check loads every program: exit 3 if one is refused.
s_version() {
	local rc=0
	"$DICOMON" version --json >"$RES/version.json" || rc=$?
	"$DICOMON" version
	return $rc
}

# Load-and-attach time on 1 and 4 interfaces (under TCG: slower than the host).
s_load() {
	DICOMON=$DICOMON tests/bench/load_bench.sh -r 1 -o "$RES/load.tsv"
}

# The BPF_PROG_TEST_RUN tests; cmocka prints per group, so the totals last.
s_bpf() {
	local rc=0 ok bad t
	: >"$RES/bpf.out"
	for t in "$OUT"/tests/test_bpf "$OUT"/tests/test_evasion "$OUT"/tests/test_tables; do
		"$t" 2>&1 | tee -a "$RES/bpf.out" || rc=$?
	done
	ok=$(grep -c '^\[       OK \]' "$RES/bpf.out")
	bad=$(grep -cE '^\[  (FAILED|ERROR)   \]' "$RES/bpf.out")
	echo "bpf: $ok passed, $bad failed"
	((rc == 0 && bad == 0 && ok > 0))
}

s_replay() {
	local cap name rc=0
	mkdir -p "$RES/replay"
	for cap in tests/replay/captures/*.pcap tests/replay/captures/*.pcapng; do
		name=$(basename "${cap%.*}")
		if ! "$DICOMON" replay --json --eve "$RES/replay/$name.eve.json" "$cap" \
			>"$RES/replay/$name.jsonl" 2>"$RES/replay/$name.err"; then
			echo "replay $name: exit status $?: $(tail -n 1 "$RES/replay/$name.err")"
			rc=1
		fi
	done
	echo "replayed $(ls "$RES"/replay/*.jsonl | wc -l) captures"
	return $rc
}

# The evasion captures against what each must yield (the mutation pass is the host's).
s_adversarial() {
	python3 tests/adversarial/check_adversarial.py --no-mutation --dicomon "$DICOMON" \
		tests/adversarial/captures >"$RES/adversarial.out" 2>&1
	local rc=$?
	grep -v '^PASS' "$RES/adversarial.out" | tail -n 20
	return $rc
}

# One of the end-to-end scripts, as make test-e2e runs it.
s_e2e() {
	DICOMON=$DICOMON VLAN_TOGGLE_OBJ=$OUT/tests/vlan_toggle.bpf.o \
		TC_PASS_OBJ=$OUT/tests/tc_pass.bpf.o "tests/e2e/test_$1.sh"
}

# The verifier's log of a failing load (diagnosis; not in the suites).
s_vlog() {
	"$DICOMON" replay -vv tests/replay/captures/tls.pcap 2>&1 | grep -v '^libbpf: ' | tail -n 400
	"$DICOMON" replay -vv tests/replay/captures/tls.pcap 2>&1 | grep -B5 -A40 -m3 'processed\|invalid\|not allowed\|expected' | head -300
}

run_steps() {
	local s
	for s in "$@"; do
		case $s in
			version) step version s_version ;;
			bpf) step bpf s_bpf ;;
			replay) step replay s_replay ;;
			adversarial) step adversarial s_adversarial ;;
			load) step load s_load ;;
			vlog) step vlog s_vlog ;;
			e2e_*) step "$s" s_e2e "${s#e2e_}" ;;
			*) printf '%s\tFAIL\t0\tunknown step\n' "$s" >>"$RES/results.tsv" ;;
		esac
	done
}

: >"$RES/results.tsv"
uname -r >"$RES/kernel"
case $SUITE in
	ci) run_steps version bpf replay adversarial load e2e_dcmtk e2e_vlan e2e_tcorder e2e_daemon ;;
	full) run_steps version bpf replay adversarial load e2e_dcmtk e2e_vlan e2e_tcorder e2e_daemon \
		e2e_assoc e2e_scanner e2e_rules e2e_dicomweb e2e_prometheus ;;
	*) IFS=, read -ra S <<<"$SUITE"; run_steps "${S[@]}" ;;
esac
date -u +%FT%TZ >"$RES/done"
sync
/bin/busybox poweroff -f
