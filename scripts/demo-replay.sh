#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The demo without network namespaces (containers, restricted hosts):
# `dicomon replay` over the committed ground-truth captures (real DCMTK,
# Orthanc and nmap traffic, tests/replay/captures/), printing what the live
# demo prints: the alerts, the association table, a metrics excerpt, and the
# evidence pcaps. scripts/demo.sh runs this when it cannot create a network
# namespace, or with --replay. Needs root (BPF_PROG_TEST_RUN) and a build.
#
#   sudo scripts/demo-replay.sh [CAPTURE...]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DICOMON=${DICOMON:-$REPO/.output/dicomon}
[[ $EUID -eq 0 ]] || exec sudo -E "$0" "$@"
log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

caps=("$@")
if [[ ${#caps[@]} -eq 0 ]]; then
	shopt -s nullglob
	caps=("$REPO"/tests/replay/captures/*.pcap "$REPO"/tests/replay/captures/*.pcapng)
	[[ ${#caps[@]} -gt 0 ]] || caps=("$REPO/tests/e2e/testdata/assoc/sample.pcapng")
fi
# The DICOM ports the captures use (their .ports sidecars), on top of the defaults.
ports="104,11112,2762,4242"
for c in "${caps[@]}"; do
	side=${c%.*}.ports
	[[ -f $side ]] || continue
	while read -r p; do
		ports="$ports,$p"
	done < <(awk '$1 == "dicom" || $1 == "tls" {for (i = 2; i <= NF; i++) print $i}' "$side")
done
W=$(mktemp -d /tmp/dmdemo-replay.XXXXXX)
trap 'rm -rf "$W"' EXIT

log "dicomon replay: ${#caps[@]} captures made with DCMTK, Orthanc and nmap (tests/replay/captures)"
for c in "${caps[@]}"; do printf '   %s\n' "${c#"$REPO"/}"; done
rc=0
"$DICOMON" replay --json -p "$ports" --eve "$W/eve.json" --metrics-out "$W/metrics.prom" \
	--evidence "$W/evidence" "${caps[@]}" >"$W/events.jsonl" 2>"$W/err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$W/err" >&2; exit "$rc"; }

log "the association table (one record per association, from the replay's flow_end lines)"
python3 - "$W/events.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"event":"flow_end"' in l]
fmt = "%-9s %-26s %-26s %-16s %-16s %-9s %s"
print(fmt % ("transport", "initiator", "acceptor", "calling", "called", "outcome", "commands"))
for r in rows:
    src = "[%s]:%s" % (r["src"], r["sport"]) if ":" in r["src"] else "%s:%s" % (r["src"], r["sport"])
    dst = "[%s]:%s" % (r["dst"], r["dport"]) if ":" in r["dst"] else "%s:%s" % (r["dst"], r["dport"])
    cmds = ",".join("%s=%d" % kv for kv in sorted((r.get("commands") or {}).items()))
    print(fmt % (r.get("transport"), src, dst, r.get("calling_ae") or "-", r.get("called_ae") or "-",
                 r.get("outcome") or "-", cmds or "-"))
s = [json.loads(l) for l in open(sys.argv[1]) if '"event":"replay"' in l][0]
print("%d associations from %d packets in %.2f s (%.0f packets/s)" % (
    len(rows), s["packets"], s["seconds"], s["packets_per_second"]))
PY

log "alerts (EVE feed), one line per signature"
python3 - "$W/eve.json" <<'PY'
import collections, json, sys
by = collections.OrderedDict()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["event_type"] != "alert":
        continue
    a = r["alert"]
    k = (a["signature_id"], a["severity"], a["signature"])
    by.setdefault(k, []).append(r)
for (sid, sev, sig), rs in by.items():
    r = rs[0]
    print("\033[31mALERT\033[0m %d sev %d %-48s x%-3d e.g. %s:%s -> %s:%s (%s packet %s)" % (
        sid, sev, sig, len(rs), r.get("src_ip"), r.get("src_port"), r.get("dest_ip"),
        r.get("dest_port"), r.get("pcap_filename", "").rsplit("/", 1)[-1], r.get("pcap_cnt")))
PY

log "Prometheus: an excerpt of the final metrics (--metrics-out)"
grep -E '^dicomon_(associations|tls_associations|association_rejects|alerts)_total\{' "$W/metrics.prom" |
	grep -v ' 0$' | head -20 || true

log "evidence: redacted pcaps of alerted associations (open them in Wireshark)"
n=$(find "$W/evidence" -name '*.pcap' | wc -l)
printf '   %d pcaps in --evidence DIR, data sets and user identities zeroed, e.g.:\n' "$n"
f=$(find "$W/evidence" -name '*.pcap' | sort | head -1)
if [[ -n $f ]] && command -v tshark >/dev/null; then
	tshark -r "$f" -d "tcp.port==104,dicom" 2>/dev/null | grep -E 'DICOM' | head -4 | sed 's/^/   /'
fi
log "replay demo done"
