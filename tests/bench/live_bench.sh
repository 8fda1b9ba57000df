#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# What dicomon costs a gateway that forwards real traffic (issue 15).
#
#   tests/bench/live_bench.sh [-r RUNS] [-t SECONDS] [-m MB] [-k COPIES] [-l LOOPS]
#                             [-c REPLAY_COPIES] [DICOMON]
#
# client ns -- gateway ns -- server ns (dmlive-$$-*, two veth legs, ip_forward
# on in the gateway), measured in three configurations of the gateway's legs:
# no program, a no-op XDP program (.output/noop.bpf.o, native XDP on both
# legs) and `dicomon run -i gw-mod -i gw-pacs` (own --pin-root on a private
# bpffs, metrics on the gateway's loopback). Per configuration:
#   - iperf3 -P 4 for SECONDS (default 10), client -> server, on port 5201
#     (not DICOM) and on port 104 (a DICOM port, but not DICOM traffic)
#   - storescu of a generated MB-megabyte (default 64) DICOM file, COPIES
#     times (default 4) in one association, to storescp --ignore: MB/s
#   - tcpreplay --topspeed of tests/replay/captures/dcmtk-qr.pcapng, made
#     into REPLAY_COPIES (50) copies with the client ports moved per copy
#     (multiply_pcap.py) and sent LOOPS times (default 30: 1,500 passes,
#     about 3 s): every association of it new, none replayed over a live one
#     (identical loops would make all but the first a flood of retransmitted
#     segments of known flows). MACs rewritten, the capture's client and
#     server addresses mapped to two addresses the gateway routes to the
#     server leg, so both directions of every association are forwarded
#     there: packets arriving there per second
#   - the machine's softirq time (/proc/stat, all CPUs: the namespaces share
#     them) divided by the packets the gateway forwarded, for the non-DICOM
#     iperf3 run, the storescu run and the replay
#   - the XDP programs' own time per packet (run_time_ns / run_cnt of the
#     programs on the gateway's legs, kernel.bpf_stats_enabled on for the
#     run and put back as it was after) for each workload: the one number
#     the machine's drift does not blur (it includes the stats' own clock
#     reads, the same for the no-op)
#   - dicomon's own CPU (user + system, /proc/PID/stat) during the storescu
#     run and the replay, in % of one CPU: the daemon shares the gateway's
#     CPUs with the forwarding
# The configurations are interleaved round by round (RUNS rounds, default 3)
# so drift on a shared machine hits all three alike; the table shows medians
# and ratios to the no-op row. In the dicomon configuration the script fails
# unless dicomon's DICOM byte counter moved by at least the bytes storescu sent.
# Needs root, iperf3, tcpreplay, DCMTK. Takes about RUNS x 3 x (2 x SECONDS + 15) s.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../e2e/lib.sh
source "$REPO/tests/e2e/lib.sh"

RUNS=3 SECS=10 MB=64 COPIES=4 LOOPS=30 REPLAY_COPIES=50 DICOMON=${DICOMON:-$REPO/.output/dicomon}
NOOP=${NOOP:-$REPO/.output/noop.bpf.o}
while (($#)); do
	case $1 in
		-r) RUNS=${2:?}; shift ;;
		-t) SECS=${2:?}; shift ;;
		-m) MB=${2:?}; shift ;;
		-k) COPIES=${2:?}; shift ;;
		-l) LOOPS=${2:?}; shift ;;
		-c) REPLAY_COPIES=${2:?}; shift ;;
		-h | --help) sed -n '/^# What dicomon/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
		-*) e2e_die "unknown option $1" ;;
		*) DICOMON=$1 ;;
	esac
	shift
done
[[ $EUID -eq 0 ]] || e2e_die "must run as root"
[[ -x $DICOMON ]] || e2e_die "no dicomon binary at $DICOMON (make)"
[[ -f $NOOP ]] || e2e_die "no no-op XDP object at $NOOP (make)"
DICOMON=$(realpath "$DICOMON")
e2e_need ip ethtool python3 iperf3 tcpreplay tcprewrite tshark capinfos storescu storescp img2dcm curl timeout

trap e2e_cleanup EXIT
E2E_TMP=$(mktemp -d "/tmp/dmlive-$$.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs"
CLI="dmlive-$$-cli" GW="dmlive-$$-gw" SRV="dmlive-$$-srv" NET=10.77.0
SINK=10.77.1.1 # routed by the gateway to the server, which owns no such address
SRV_IP=$NET.6
e2e_gateway "$CLI" "$GW" "$SRV" "$NET"
ip -n "$GW" route add "$SINK/32" via "$SRV_IP"
# Resolve the neighbours once, so no measurement pays for ARP.
ip netns exec "$CLI" ping -c 1 -W 2 "$SRV_IP" >/dev/null || e2e_die "no route client -> server"

# ---------------------------------------------------------------- fixtures

e2e_log "generating a ${MB} MB DICOM file"
python3 - "$W/big.bmp" "$MB" <<'PY'
import math, struct, sys
side = int(math.sqrt(int(sys.argv[2]) * 1048576 / 3)) // 4 * 4
def row(y):
    return bytes(b for x in range(side) for b in ((x * 7 + y) & 255, (y * 3) & 255, (x ^ y) & 255))
pattern = [row(y) for y in range(16)]
data = b"".join(pattern[y % 16] for y in range(side))
hdr = b"BM" + struct.pack("<IHHI", 54 + len(data), 0, 0, 54)
dib = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, len(data), 2835, 2835, 0, 0)
with open(sys.argv[1], "wb") as f:
    f.write(hdr + dib + data)
PY
# Synthetic identifiers only: no patient data.
img2dcm -q -i BMP -k "PatientName=BENCH^LIVE" -k "PatientID=BENCH0" "$W/big.bmp" "$W/big.dcm"
rm -f "$W/big.bmp"
DCM_BYTES=$(stat -c %s "$W/big.dcm")
FILES=()
for ((i = 0; i < COPIES; i++)); do FILES+=("$W/big.dcm"); done

# The replay: REPLAY_COPIES copies of the capture, each with its own client
# ports, every frame sent from the client leg with the gateway as its next
# hop. The capture's client becomes PEER, its server SINK: both are routed to
# the server leg (which owns neither and drops them after counting), so each
# association is forwarded whole, both directions, as the gateway would see
# it. A frame from SINK arrives on the leg that does not route to SINK:
# reverse-path filtering off in the gateway (its own namespace).
CLI_MAC=$(ip netns exec "$CLI" cat /sys/class/net/eth0/address)
GW_MAC=$(ip netns exec "$GW" cat /sys/class/net/gw-mod/address)
PEER=10.77.2.2
ip -n "$GW" route add "$PEER/32" via "$SRV_IP"
for c in all default gw-mod; do ip netns exec "$GW" sysctl -qw "net.ipv4.conf.$c.rp_filter=0"; done
# IPv4 frames only (an ARP frame addressed to the gateway would not be forwarded).
tshark -r "$REPO/tests/replay/captures/dcmtk-qr.pcapng" -Y ip -F pcap -w "$W/in.pcap" 2>"$W/logs/tshark.err" ||
	e2e_die "tshark: $(cat "$W/logs/tshark.err")"
read -r CAP_CLI CAP_SRV < <(tshark -r "$W/in.pcap" -Y "tcp.dstport == 11112 && tcp.flags.syn == 1" \
	-T fields -e ip.src -e ip.dst 2>/dev/null | head -n 1)
[[ -n ${CAP_SRV:-} ]] || e2e_die "no SYN to port 11112 in the replay capture"
python3 "$HERE/multiply_pcap.py" "$W/in.pcap" "$W/many.pcap" "$REPLAY_COPIES"
IPMAP="$CAP_CLI/32:$PEER/32,$CAP_SRV/32:$SINK/32"
tcprewrite --infile="$W/many.pcap" --outfile="$W/replay.pcap" --enet-smac="$CLI_MAC" \
	--enet-dmac="$GW_MAC" --srcipmap="$IPMAP" --dstipmap="$IPMAP" \
	--fixcsum --mtu=1500 --mtu-trunc
REPLAY_PKTS=$(capinfos -c -M "$W/replay.pcap" | sed -n 's/^Number of packets:[[:space:]]*//p')

# ---------------------------------------------------------------- sampling

# softirq jiffies of the whole machine (/proc/stat "cpu" line, 7th field)
softirq() { awk '$1 == "cpu" {print $8; exit}' /proc/stat; }
# packets the gateway sent out of both legs
gw_fwd() {
	ip netns exec "$GW" cat /sys/class/net/gw-mod/statistics/tx_packets \
		/sys/class/net/gw-pacs/statistics/tx_packets | awk '{s += $1} END {print s}'
}
srv_rx() { ip netns exec "$SRV" cat /sys/class/net/eth0/statistics/rx_packets; }
now() { date +%s.%N; }
HZ=$(getconf CLK_TCK)

# xdp_stat : run_time_ns and run_cnt summed over the XDP programs on the gateway's
# legs, each program once (one program may run on both legs)
xdp_stat() {
	ip netns exec "$GW" bpftool -j net show | python3 -c 'import json, subprocess, sys
t = c = 0
ids = {x["id"] for dev in json.load(sys.stdin) for x in dev.get("xdp", [])}
for i in sorted(ids):
    p = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", str(i)],
                                  capture_output=True, check=True).stdout)
    t += p.get("run_time_ns", 0)
    c += p.get("run_cnt", 0)
print(t, c)'
}
# xdp_record NAME "T0 C0" : the XDP programs' ns per run since then
xdp_record() {
	[[ $CONF == none ]] && return 0
	# shellcheck disable=SC2046,SC2086 # "T C" pairs are split into their numbers on purpose
	record "$1" "$(python3 -c 'import sys; t0, c0, t1, c1 = map(int, sys.argv[1:])
print("%.1f" % ((t1 - t0) / (c1 - c0)) if c1 > c0 else "nan")' $2 $(xdp_stat))"
}

# daemon_ticks : dicomon's user + system CPU ticks so far (0 without it)
daemon_ticks() {
	[[ $CONF == dicomon ]] || { echo 0; return; }
	awk '{print $14 + $15}' "/proc/$E2E_DICOMON_PID/stat"
}
# daemon_record NAME TICKS0 T0 : the daemon's CPU use since then, in % of one CPU
daemon_record() {
	[[ $CONF == dicomon ]] || return 0
	record "$1" "$(python3 -c 'import sys; d, t0, t1, hz = map(float, sys.argv[1:])
print("%.1f" % (100 * d / hz / (t1 - t0)))' "$(($(daemon_ticks) - $2))" "$3" "$(now)" "$HZ")"
}

# record NAME VALUE : one sample of the current configuration and round
record() { printf '%s\t%s\t%s\n' "$CONF" "$1" "$2" >>"$W/samples.tsv"; }
# cpu_record NAME SOFTIRQ0 FWD0 : softirq ns per forwarded packet since then
cpu_record() {
	local s1 f1
	s1=$(softirq) f1=$(gw_fwd)
	record "$1" "$(python3 -c 'import sys; s, f, hz = map(float, sys.argv[1:])
print("%.1f" % (s * 1e9 / hz / f if f else float("nan")))' "$((s1 - $2))" "$((f1 - $3))" "$HZ")"
}

iperf_run() {
	local port=$1 name=$2 s0 f0 pid x0
	e2e_bg "iperf3-s" "$W/logs/iperf3-s.out" "$W/logs/iperf3-s.err" \
		ip netns exec "$SRV" iperf3 -s -1 -p "$port"
	pid=$E2E_LAST_PID
	e2e_wait_for 10 "iperf3 on $port" e2e_port_listening "$SRV" "$port" || e2e_die "iperf3 -s did not start"
	s0=$(softirq) f0=$(gw_fwd) x0=$(xdp_stat)
	timeout $((SECS + 20)) ip netns exec "$CLI" iperf3 -c "$SRV_IP" -p "$port" -P 4 -t "$SECS" -J \
		>"$W/iperf.json" || e2e_die "iperf3 to port $port failed: $(tail -c 300 "$W/iperf.json")"
	xdp_record "xdp_$name" "$x0"
	[[ $port == 5201 ]] && cpu_record cpu_iperf "$s0" "$f0"
	e2e_stop "$pid" TERM 5 || true
	record "$name" "$(python3 -c 'import json,sys
print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$W/iperf.json")"
}

storescu_run() {
	local s0 f0 t0 t1 x0 d0
	x0=$(xdp_stat) d0=$(daemon_ticks) s0=$(softirq) f0=$(gw_fwd) t0=$(now)
	timeout 120 ip netns exec "$CLI" storescu -aet BENCHSCU -aec BENCHSCP "$SRV_IP" 11112 "${FILES[@]}" \
		>"$W/logs/storescu.out" 2>&1 || e2e_die "storescu failed: $(tail -n 5 "$W/logs/storescu.out")"
	t1=$(now)
	cpu_record cpu_store "$s0" "$f0"
	xdp_record xdp_store "$x0"
	daemon_record daemon_store "$d0" "$t0"
	record store_mbs "$(python3 -c 'import sys; b, t0, t1 = map(float, sys.argv[1:])
print("%.1f" % (b / 1e6 / (t1 - t0)))' "$((DCM_BYTES * COPIES))" "$t0" "$t1")"
}

replay_run() {
	local s0 f0 r0 r1 out x0 d0 t0
	x0=$(xdp_stat) d0=$(daemon_ticks) t0=$(now) s0=$(softirq) f0=$(gw_fwd) r0=$(srv_rx)
	out=$(timeout 120 ip netns exec "$CLI" tcpreplay -q -K --topspeed --loop="$LOOPS" -i eth0 \
		"$W/replay.pcap" 2>&1) || e2e_die "tcpreplay failed: $out"
	sleep 0.2 # let the backlog drain into the server leg
	r1=$(srv_rx)
	cpu_record cpu_replay "$s0" "$f0"
	xdp_record xdp_replay "$x0"
	daemon_record daemon_replay "$d0" "$t0"
	# tcpreplay's own elapsed time: "Actual: N packets (B bytes) sent in S seconds"
	record replay_pps "$(python3 -c 'import re,sys
m = re.search(r"sent in ([0-9.]+) seconds", sys.argv[1])
print("%.0f" % (int(sys.argv[2]) / float(m.group(1))))' "$out" "$((r1 - r0))")"
	record replay_loss "$((REPLAY_PKTS * LOOPS - (r1 - r0)))"
}

# dicom_bytes : dicomon's bytes_total of class dicom, summed over interfaces
dicom_bytes() {
	ip netns exec "$GW" curl -sf --max-time 5 http://127.0.0.1:9479/metrics |
		awk '/^dicomon_bytes_total\{/ && /class="dicom"/ {s += $NF} END {printf "%.0f\n", s}'
}

# ---------------------------------------------------------------- configurations

conf_up() {
	case $CONF in
		none) ;;
		noop)
			ip -n "$GW" link set dev gw-mod xdpdrv obj "$NOOP" sec xdp
			ip -n "$GW" link set dev gw-pacs xdpdrv obj "$NOOP" sec xdp
			;;
		dicomon)
			: >"$W/ev.jsonl"
			e2e_dicomon_start dicomon-live "$GW" "$W/ev.jsonl" "$W/logs/dicomon.err" "$DICOMON" run \
				--json -i gw-mod -i gw-pacs -p 104,11112 --pin-root "/sys/fs/bpf/dmlive-$$" \
				-o "table.status_socket=$W/status.sock"
			e2e_wait_for 10 "/metrics" ip netns exec "$GW" curl -sf -o /dev/null \
				http://127.0.0.1:9479/metrics || e2e_die "dicomon's /metrics does not answer"
			DB0=$(dicom_bytes)
			;;
	esac
	# exactly the programs this configuration expects, on both legs
	local n
	n=$(ip -n "$GW" -d link show | grep -c 'prog/xdp' || true)
	case $CONF in none) ((n == 0)) ;; *) ((n == 2)) ;; esac ||
		e2e_die "$CONF: $n XDP programs on the gateway legs: $(ip -n "$GW" -d link show)"
	# veth drops the peer's TSO/GSO while an XDP program is attached: log it
	((r > 1)) || e2e_log "$CONF: client eth0 $(ip netns exec "$CLI" ethtool -k eth0 |
		grep -E '^(tcp-segmentation|generic-segmentation)-offload' | tr -s '\n' ' ')"
}

conf_down() {
	local rc=0 db1
	case $CONF in
		noop)
			ip -n "$GW" link set dev gw-mod xdpdrv off
			ip -n "$GW" link set dev gw-pacs xdpdrv off
			;;
		dicomon)
			db1=$(dicom_bytes)
			record dicom_bytes "$((db1 - DB0))"
			((db1 - DB0 >= DCM_BYTES * COPIES)) ||
				e2e_die "dicomon counted $((db1 - DB0)) DICOM bytes, storescu sent $((DCM_BYTES * COPIES))"
			e2e_stop "$E2E_DICOMON_PID" INT 10 || rc=$?
			((rc == 0)) || e2e_die "dicomon exit status $rc: $(tail -n 3 "$W/logs/dicomon.err")"
			;;
	esac
}

e2e_bg storescp "$W/logs/storescp.out" "$W/logs/storescp.err" \
	ip netns exec "$SRV" storescp --ignore -aet BENCHSCP 11112
e2e_wait_for 10 "storescp" e2e_port_listening "$SRV" 11112 || e2e_die "storescp did not start"

# Per-program run time: on for this run, put back as it was on exit.
BPF_STATS0=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS0"; e2e_cleanup' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
e2e_log "kernel $(uname -r), $CPU, $(nproc) CPUs; $RUNS rounds, iperf3 ${SECS}s, storescu $COPIES x $DCM_BYTES B, replay $LOOPS x $REPLAY_PKTS packets"
: >"$W/samples.tsv"
for ((r = 1; r <= RUNS; r++)); do
	for CONF in none noop dicomon; do
		e2e_log "round $r/$RUNS: $CONF"
		conf_up
		iperf_run 5201 iperf_other
		iperf_run 104 iperf_104
		storescu_run
		replay_run
		conf_down
	done
done

python3 "$HERE/live_table.py" "$W/samples.tsv" "$CPU" "$(uname -r)" "$(nproc)" "$RUNS"
