#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Safe files and whole lines (issue 14), as root:
#
#   evidence  `dicomon replay --evidence DIR` of tests/e2e/testdata/assoc/sample.pcapng
#             (8 alerted associations). In a sticky world-writable DIR (like /tmp),
#             `nobody` plants a symlink to a root-only file under the name of one
#             evidence pcap and pre-creates another: both refused and counted
#             (evidence_files_refused_total 2), the symlink's target and nobody's
#             file untouched, the 6 others written 0600. A DIR writable by others
#             without the sticky bit, or owned by nobody: startup error (non-zero
#             exit, the directory, owner and mode named).
#   eve       --eve FILE pre-created by nobody, a symlink, group-writable: startup
#             error, the file untouched; --metrics-out as a symlink: refused.
#   full      `dicomon run` on a veth in a test namespace, feed.file on a 1 MiB
#             tmpfs this test mounts (and unmounts), a filler file leaving 48 KiB:
#             frames of the capture (copy 1) sent into the veth fill the disk
#             (feed_full_dropped_lines_total > 0, logged once), the filler is
#             deleted, copy 2 is sent: its records are written ("writing again"
#             logged). Every line of the EVE file is whole JSON; every record of
#             copy 2 is in it.
#
#   sudo tests/e2e/test_files.sh [DICOMON]
# The last line is "files: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
DICOMON=$(realpath "${1:-${DICOMON:-$REPO/.output/dicomon}}")
SAMPLE=$REPO/tests/e2e/testdata/assoc/sample.pcapng
[[ $EUID -eq 0 ]] || e2e_die "must run as root (replay, namespaces, mounts)"
e2e_need ip setpriv editcap curl python3 mount umount mountpoint
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

PFX="dmfiles-$$"
NS="$PFX-ns"
MNT="" BPFFS=""
cleanup() {
    local rc=$? m
    set +e
    for m in "$MNT" "$BPFFS"; do
        if [[ -n $m ]] && mountpoint -q "$m"; then umount -l "$m"; fi
    done
    (exit "$rc")
    e2e_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
chmod 0755 "$W" # nobody must reach the directories it attacks
cd "$W"
PASSED=0 FAILED=0
metric() { # metric FILE NAME{labels}: its value (0 if absent)
    awk -v n="$2" '$1 == n {print $2; f = 1} END {if (!f) print 0}' "$1"
}
run() { # run NAME ARGS...: `dicomon replay ARGS` -> NAME.out NAME.err, rc in RC
    local n=$1
    shift
    RC=0
    "$DICOMON" replay "$@" >"$n.out" 2>"$n.err" || RC=$?
}

editcap -F pcap "$SAMPLE" eth.pcap

# ------------------------------------------------------------------ evidence
run clean --evidence clean eth.pcap
mapfile -t NAMES < <(cd clean && ls -- *.pcap)
e2e_result $((RC == 0 && ${#NAMES[@]} == 8)) "evidence: a clean run writes 8 pcaps" "rc=$RC ${NAMES[*]}"

mkdir -m 1777 ev
printf 'ROOT ONLY\n' >secret
chmod 0600 secret
"${NOBODY[@]}" ln -s "$W/secret" "ev/${NAMES[0]}"
"${NOBODY[@]}" sh -c ": >'ev/${NAMES[1]}'"
run attack --evidence ev --metrics-out attack.prom eth.pcap
e2e_result $((RC == 0)) "evidence: the replay goes on past refused files" "rc=$RC $(head -c 300 attack.err)"
e2e_result "$([[ $(cat secret) == "ROOT ONLY" && $(stat -c %s secret) == 10 ]] && echo 1 || echo 0)" \
    "evidence: the symlink's target is untouched" "$(stat -c '%s %U %a' secret)"
e2e_result "$([[ -L ev/${NAMES[0]} && $(stat -c '%s %U' "ev/${NAMES[1]}") == "0 nobody" ]] && echo 1 || echo 0)" \
    "evidence: nobody's file is untouched (empty, nobody's)" "$(stat -c '%s %U %a' "ev/${NAMES[1]}")"
e2e_result "$([[ $(metric attack.prom dicomon_evidence_files_refused_total) == 2 ]] && echo 1 || echo 0)" \
    "evidence: evidence_files_refused_total 2" "$(grep refused attack.prom)"
GOOD=0
for n in "${NAMES[@]:2}"; do
    [[ $(stat -c '%U %a' "ev/$n") == "root 600" ]] && cmp -s "ev/$n" "clean/$n" && GOOD=$((GOOD + 1))
done
e2e_result $((GOOD == 6)) "evidence: the 6 other pcaps written, root's, 0600, as in the clean run" "$GOOD"
e2e_result "$(grep -q "ev/${NAMES[0]}: is a symbolic link; refused" attack.err &&
    grep -q "ev/${NAMES[1]} (owner uid 65534, mode 0644): owned by another user" attack.err &&
    echo 1 || echo 0)" "evidence: each refusal logged with path, owner and mode" "$(grep refused attack.err | head -3)"

mkdir -m 0777 evopen
chmod 0777 evopen
run open --evidence evopen eth.pcap
e2e_result "$( ((RC != 0)) && grep -q "evopen (owner uid 0, mode 0777): writable by group or others" open.err &&
    echo 1 || echo 0)" "evidence: a world-writable directory is a startup error" "rc=$RC $(head -c 300 open.err)"
mkdir -m 0755 evtheirs
chown 65534:65534 evtheirs
run theirs --evidence evtheirs eth.pcap
e2e_result "$( ((RC != 0)) && grep -q "owned by another user" theirs.err && [[ -z $(ls evtheirs) ]] &&
    echo 1 || echo 0)" "evidence: a directory of nobody's is a startup error" "rc=$RC $(head -c 300 theirs.err)"
run newdir --evidence made/ev eth.pcap
mkdir -m 0700 made
run newdir --evidence made/ev eth.pcap
e2e_result "$( ((RC == 0)) && [[ $(stat -c %a made/ev) == 700 ]] && echo 1 || echo 0)" \
    "evidence: a directory dicomon makes is 0700" "rc=$RC $(stat -c %a made/ev 2>&1)"

# ----------------------------------------------------------------------- eve
mkdir -m 1777 pub
"${NOBODY[@]}" sh -c "printf 'theirs\n' >pub/eve.json"
run evetheirs --eve pub/eve.json eth.pcap
e2e_result "$( ((RC != 0)) && grep -q "pub/eve.json (owner uid 65534, mode 0644): owned by another user" evetheirs.err &&
    [[ $(cat pub/eve.json) == theirs ]] && echo 1 || echo 0)" \
    "eve: a file pre-created by nobody is a startup error, left as it was" "rc=$RC $(head -c 300 evetheirs.err)"
"${NOBODY[@]}" ln -s "$W/secret" pub/link.json
run evelink --eve pub/link.json eth.pcap
e2e_result "$( ((RC != 0)) && grep -q "symbolic link" evelink.err && [[ $(cat secret) == "ROOT ONLY" ]] &&
    echo 1 || echo 0)" "eve: a symlink is a startup error, its target untouched" "rc=$RC $(head -c 300 evelink.err)"
printf 'x\n' >gw.json
chmod 0620 gw.json
run evegw --eve gw.json eth.pcap
e2e_result "$( ((RC != 0)) && grep -q "mode 0620): writable by group or others" evegw.err && echo 1 || echo 0)" \
    "eve: a group-writable file is a startup error" "rc=$RC $(head -c 300 evegw.err)"
run evenew --eve feed/eve.json eth.pcap
e2e_result "$( ((RC == 0)) && [[ $(stat -c %a feed) == 750 && $(stat -c %a feed/eve.json) == 640 ]] && echo 1 || echo 0)" \
    "eve: its directory made 0750, the file 0640" "rc=$RC $(stat -c %a feed feed/eve.json 2>&1 | tr '\n' ' ')"
"${NOBODY[@]}" ln -s "$W/secret" pub/m.prom
run mlink --metrics-out pub/m.prom eth.pcap
e2e_result "$( ((RC != 0)) && grep -q "symbolic link" mlink.err && [[ $(cat secret) == "ROOT ONLY" ]] &&
    echo 1 || echo 0)" "--metrics-out: a symlink is refused, its target untouched" "rc=$RC $(head -c 300 mlink.err)"

# ---------------------------------------------------------------------- full
python3 "$REPO/tests/bench/multiply_pcap.py" eth.pcap two.pcap 2
editcap -F pcap -r two.pcap copy1.pcap 1-221
editcap -F pcap -r two.pcap copy2.pcap 222-442
run truth2 --eve truth2.json copy2.pcap
MNT=$W/mnt BPFFS=$W/bpffs
mkdir -p "$MNT" "$BPFFS"
mount -t tmpfs -o size=1m,mode=0700 "dmfiles-$$" "$MNT"
mount -t bpf bpf "$BPFFS"
dd if=/dev/zero of="$MNT/filler" bs=1k count=$((1024 - 48)) status=none
e2e_netns_add "$NS"
ip -n "$NS" link add name fa type veth peer name fb
ip -n "$NS" link set fa up
ip -n "$NS" link set fb up
PORT=9464
e2e_bg dicomon dicomon.out dicomon.err ip netns exec "$NS" "$DICOMON" run --json -v -i fb \
    --pin-root "$BPFFS/pins" -o "feed.file=$MNT/eve.json" -o "metrics.listen=127.0.0.1:$PORT" \
    -o "table.status_socket=$W/status.sock"
DPID=$E2E_LAST_PID
ready() { ! e2e_alive "$DPID" || grep -qs '"event":"ready"' dicomon.out; }
if ! e2e_wait_for 20 "dicomon ready" ready || ! grep -qs '"event":"ready"' dicomon.out; then
    e2e_die "dicomon not ready: $(cat dicomon.err)"
fi
send() { # send PCAP: every frame into veth a (dicomon's XDP on b receives it)
    ip netns exec "$NS" python3 - "$1" <<'PY'
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("fa", 0))
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    s.send(data[off + 16:off + 16 + incl])
    off += 16 + incl
PY
}
scrape() { ip netns exec "$NS" curl -s "http://127.0.0.1:$PORT/metrics" >"$1"; }
full_dropped() {
    scrape m1.prom
    (($(metric m1.prom 'dicomon_feed_full_dropped_lines_total{output="file"}') > 0))
}
send copy1.pcap
e2e_wait_for 10 "lines dropped for the full disk" full_dropped || true
R1=$(metric m1.prom 'dicomon_feed_rolled_back_lines_total{output="file"}')
D1=$(metric m1.prom 'dicomon_feed_full_dropped_lines_total{output="file"}')
e2e_result $((D1 > 0 && R1 > 0)) "full: lines dropped for the full disk counted, torn ones cut back" \
    "full=$D1 rolled_back=$R1"
e2e_result "$(($(grep -c 'No space left on device' dicomon.err) == 1))" \
    "full: logged once with the reason" "$(grep -c 'No space' dicomon.err)"
rm "$MNT/filler"
send copy2.pcap
L2=$(grep -c '"event_type":"dicom"' truth2.json)
written2() { (($(grep -c '"src_port"' "$MNT/eve.json") > 0)) && grep -qs "writing again" dicomon.err; }
e2e_wait_for 10 "writing again" written2 || true
sleep 1
scrape m2.prom
e2e_stop "$DPID" TERM 10 || true
e2e_result "$(grep -q 'writing again' dicomon.err && echo 1 || echo 0)" "full: resuming is logged" \
    "$(grep 'feed file' dicomon.err | head -3)"
python3 - "$MNT/eve.json" truth2.json "$L2" >full.check <<'PY' || true
import json, sys
bad, recs = 0, []
raw = open(sys.argv[1], "rb").read()
for n, line in enumerate(raw.split(b"\n")[:-1]):
    try:
        o = json.loads(line.decode("utf-8"))
        if o.get("event_type") == "dicom":
            recs.append((o["src_port"], o["dest_port"]))
    except Exception as e:
        bad += 1
        print("line", n + 1, "is not JSON:", e, line[:80])
print("ends_with_newline", raw.endswith(b"\n"))
truth = [json.loads(l) for l in open(sys.argv[2])]
ports2 = {(o["src_port"], o["dest_port"]) for o in truth if o.get("event_type") == "dicom"}
have = set(recs)
print("bad", bad)
print("copy2_records", len(ports2 & have), "of", int(sys.argv[3]))
PY
cat full.check
e2e_result "$(grep -qx 'bad 0' full.check && grep -qx 'ends_with_newline True' full.check && echo 1 || echo 0)" \
    "full: every line of the EVE file is whole JSON" "$(head -3 full.check)"
e2e_result "$(grep -q "copy2_records $L2 of $L2" full.check && echo 1 || echo 0)" \
    "full: after space returned, every record of copy 2 was written" "$(grep copy2 full.check)"
D2=$(metric m2.prom 'dicomon_feed_dropped_lines_total{output="file"}')
e2e_result $((D2 >= D1 && D1 > 0)) "full: feed_dropped_lines_total moved" "dropped=$D2"

echo "files: $PASSED passed, $FAILED failed"
((FAILED == 0))
