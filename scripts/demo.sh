#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The README's demo: install what is needed, build, and run a small lab of
# three network namespaces, a modality, a gateway running dicomon on both of
# its interfaces, and a PACS (DCMTK's storescp, Orthanc with DICOMweb), then
# drive real associations through it (a store, a TLS echo, a rejected AE title,
# an nmap dicom-ping, a DICOMweb query over plain HTTP) and print what dicomon
# saw as it happens: events, alerts, the association table, a metrics excerpt.
# Everything is torn down at the end. Where network namespaces cannot be
# created (a container, a locked-down host), or with --replay, it replays the
# committed captures instead (scripts/demo-replay.sh).
#
#   sudo scripts/demo.sh            # set up, build, run
#   sudo scripts/demo.sh --no-setup # skip apt-get and make
#   sudo scripts/demo.sh --replay   # dicomon replay on tests/replay/captures
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

if [[ $EUID -ne 0 ]]; then
	exec sudo -E "$0" "$@"
fi
SETUP=1 REPLAY=0
for a in "$@"; do
	case $a in
	--no-setup) SETUP=0 ;;
	--replay) REPLAY=1 ;;
	*) echo "usage: $0 [--no-setup] [--replay]" >&2; exit 2 ;;
	esac
done
if [[ $SETUP == 1 ]]; then
	scripts/install-deps.sh
	make -j"$(nproc)" >/dev/null
fi
probe="dmdemo-probe-$$"
if [[ $REPLAY == 0 ]] && ! { ip netns add "$probe" 2>/dev/null && ip netns del "$probe"; }; then
	printf '\033[1m== network namespaces are not available here: replaying the committed captures instead\033[0m\n' >&2
	REPLAY=1
fi
if [[ $REPLAY == 1 ]]; then
	exec "$REPO/scripts/demo-replay.sh"
fi
# shellcheck source=tests/e2e/lib.sh
source "$REPO/tests/e2e/lib.sh"
e2e_log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

PFX="dmdemo-$$"
MOD=$PFX-modality GW=$PFX-gateway PACS=$PFX-pacs
PACS_IP=10.214.0.6
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/in" "$W/files"

e2e_log "lab: modality (10.214.0.2) -- gateway with dicomon -- PACS ($PACS_IP)"
e2e_gateway "$MOD" "$GW" "$PACS" 10.214.0

e2e_make_pki "$W/files"
e2e_make_dicom "$W/files"
F=$W/files

ORTHANC=/usr/sbin/Orthanc
DICOMWEB_PLUGIN=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
if [[ -x $ORTHANC && -f $DICOMWEB_PLUGIN ]]; then
	mkdir -p "$W/orthanc"
	cat >"$W/orthanc.json" <<JSON
{"Name": "dicomon-demo", "StorageDirectory": "$W/orthanc", "IndexDirectory": "$W/orthanc",
 "HttpPort": 8042, "DicomPort": 14242, "RemoteAccessAllowed": true,
 "AuthenticationEnabled": false, "Plugins": ["$DICOMWEB_PLUGIN"],
 "DicomWeb": {"Enable": true, "Root": "/dicom-web/"}}
JSON
	e2e_log "PACS: Orthanc with DICOMweb on 8042 (plain HTTP)"
	e2e_bg orthanc "$W/orthanc.out" "$W/orthanc.err" ip netns exec "$PACS" "$ORTHANC" "$W/orthanc.json"
fi

e2e_log "PACS: storescp as PACS_SCP on 11112 (cleartext), 2762 (TLS) and 5104; 104 refuses"
e2e_bg storescp "$W/scp.out" "$W/scp.err" \
	ip netns exec "$PACS" storescp --aetitle PACS_SCP -od "$W/in" 11112
e2e_bg storescp-odd "$W/scp2.out" "$W/scp2.err" \
	ip netns exec "$PACS" storescp --aetitle PACS_SCP -od "$W/in" 5104
e2e_bg storescp-tls "$W/scp3.out" "$W/scp3.err" \
	ip netns exec "$PACS" storescp --aetitle PACS_SCP -od "$W/in" \
	+tls "$F/server.key" "$F/server.crt" -pw +cf "$F/ca.crt" 2762
e2e_bg storescp-refuse "$W/scp4.out" "$W/scp4.err" \
	ip netns exec "$PACS" storescp --aetitle PACS_SCP --refuse 104
for p in 11112 5104 2762 104; do
	e2e_wait_for 10 "storescp on :$p" e2e_port_listening "$PACS" "$p" || e2e_die "storescp :$p"
done

e2e_log "gateway: dicomon run -i gw-mod -i gw-pacs"
# ip netns exec gives a private /sys without bpffs: mount it there first.
# shellcheck disable=SC2016 # $0..$2 are for the inner sh
e2e_bg dicomon "$W/dicomon.out" "$W/dicomon.err" ip netns exec "$GW" sh -c \
	'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$0" run -i gw-mod -i gw-pacs -o "table.status_socket=$1" -o "feed.file=$2"' \
	"$REPO/.output/dicomon" "$W/status.sock" "$W/eve.json"
DM=$E2E_LAST_PID
e2e_wait_for 20 "dicomon ready" grep -q "watching gw-pacs" "$W/dicomon.out" ||
	e2e_die "dicomon did not start: $(cat "$W/dicomon.err")"
tail -n +1 -f "$W/dicomon.out" &
E2E_PIDS+=("$!")
# The alert feed (EVE JSON), one line per alert as it is written.
touch "$W/eve.json"
tail -n +1 -f "$W/eve.json" | python3 -u -c '
import json, sys
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("event_type") == "alert":
        a = r["alert"]
        print("\033[31mALERT\033[0m %d sev %d %s  %s:%s -> %s:%s" % (a["signature_id"], a["severity"],
              a["signature"], r.get("src_ip"), r.get("src_port"), r.get("dest_ip"), r.get("dest_port")),
              flush=True)
' &
E2E_PIDS+=("$!")

run() {
	e2e_log "modality: $*"
	ip netns exec "$MOD" "$@" >/dev/null 2>&1 || true
	sleep 0.3
}
run echoscu -aet MODALITY1 -aec PACS_SCP "$PACS_IP" 11112
run storescu -aet MODALITY1 -aec PACS_SCP "$PACS_IP" 11112 "$F/small1.dcm" "$F/big.dcm"
run echoscu -aet MODALITY1 -aec PACS_SCP "$PACS_IP" 5104
run echoscu -aet MODALITY1 -aec PACS_SCP +tls "$F/client.key" "$F/client.crt" -pw \
	+cf "$F/ca.crt" "$PACS_IP" 2762
run echoscu -aet INTRUDER -aec GUESS_ME "$PACS_IP" 104
if command -v nmap >/dev/null; then # three pings: associations without a command (rule 6)
	for _ in 1 2 3; do run nmap -Pn -n -p 11112 --script dicom-ping "$PACS_IP"; done
fi
if [[ -x $ORTHANC && -f $DICOMWEB_PLUGIN ]]; then
	e2e_wait_for 20 "Orthanc on :8042" e2e_port_listening "$PACS" 8042 || e2e_die "Orthanc did not start"
	run curl -s -o /dev/null "http://$PACS_IP:8042/dicom-web/studies?PatientName=DEMO%5EPATIENT"
fi

e2e_log "dicomon status: the association table"
sleep 0.3
"$REPO/.output/dicomon" status --socket "$W/status.sock" || true

e2e_log "Prometheus: an excerpt of /metrics (127.0.0.1:9479 in the gateway)"
ip netns exec "$GW" curl -s --max-time 5 http://127.0.0.1:9479/metrics |
	grep -E '^dicomon_(associations|tls_associations|association_rejects|alerts|ae_pair_associations)_total\{' |
	grep -v ' 0$' || true

e2e_log "stopping dicomon: its counters"
e2e_stop "$DM" INT 10 || true
sleep 0.3
e2e_log "demo done; tearing the lab down"
