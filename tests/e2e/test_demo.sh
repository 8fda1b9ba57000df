#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The README's first command, scripts/demo.sh (here with --no-setup: the test
# command has installed and built already): it must run to the end, show each
# scenario in dicomon's output (events, alerts, the association table, the
# metrics excerpt), print no DICOMweb query value from dicomon, and leave
# nothing behind (namespaces, scratch directory, processes).
#
#   sudo tests/e2e/test_demo.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
[[ $EUID -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
OUT=$(mktemp /tmp/dmdemo-test.XXXXXX)
OUT2=$(mktemp /tmp/dmdemo-test.XXXXXX)
trap 'rm -f "$OUT" "$OUT2"' EXIT

rc=0
timeout 300 "$REPO/scripts/demo.sh" --no-setup >"$OUT" 2>&1 </dev/null || rc=$?
# The fallback where network namespaces are unavailable: dicomon replay on the captures.
rc2=0
timeout 120 "$REPO/scripts/demo.sh" --no-setup --replay >"$OUT2" 2>&1 </dev/null || rc2=$?
python3 - "$OUT" "$rc" "$OUT2" "$rc2" <<'PY'
import re, subprocess, sys, os
out = open(sys.argv[1], errors="replace").read()
plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
rc = int(sys.argv[2])
passed = failed = 0
def check(ok, name, detail=""):
    global passed, failed
    ok = bool(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:800]))
    if ok: passed += 1
    else: failed += 1
check(rc == 0 and "demo done" in plain, "the demo ran to the end (rc 0)", plain[-800:])
check(re.search(r"A-ASSOCIATE-RQ cleartext calling=\"MODALITY1\" called=\"PACS_SCP\"", plain),
      "dicomon's event lines show the cleartext association set-up")
check(re.search(r"TLS-ClientHello tls version=TLS1\.3", plain), "the TLS echo is seen as TLS 1.3")
for sid, what in (("9100010", "cleartext"), ("9100061", "nmap dicom-ping (associations without commands)"),
                  ("9100110", "DICOMweb over plain HTTP"), ("9100111", "PHI keys in a DICOMweb URL")):
    check(re.search(r"^ALERT %s " % sid, plain, re.M), "alert %s (%s) printed" % (sid, what))
check(re.search(r"cleartext\s+\S+:\d+\s+\S+:104\s+INTRUDER\s+GUESS_ME\s+rejected", plain),
      "the association table shows the rejected INTRUDER -> GUESS_ME")
check(re.search(r"^dicomon_associations_total\{transport=\"tls\",outcome=\"incomplete\"\} 1$", plain, re.M)
      and re.search(r"^dicomon_association_rejects_total\{", plain, re.M),
      "the metrics excerpt counts the TLS and the rejected associations")
leaks = [l for l in plain.splitlines() if "DEMO" in l and not l.startswith("== modality: curl")]
check(not leaks, "the DICOMweb query value appears only in the demo's own command line", leaks)
ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
check("dmdemo-" not in ns, "no demo namespace left", ns)
dirs = [d for d in os.listdir("/tmp") if re.match(r"dmdemo-\d+\.", d)]
check(not dirs, "no demo scratch directory left", dirs)
procs = subprocess.run(["pgrep", "-af", "/tmp/dmdemo-[0-9]"], capture_output=True, text=True).stdout
check(not procs.strip(), "no demo process left", procs)
# The replay fallback shows the same kinds of things from the committed captures.
rout = re.sub(r"\x1b\[[0-9;]*m", "", open(sys.argv[3], errors="replace").read())
check(int(sys.argv[4]) == 0 and "replay demo done" in rout, "the replay demo ran to the end (rc 0)",
      rout[-600:])
rows = re.findall(r"^(cleartext|tls)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)", rout, re.M)
m = re.search(r"^(\d+) associations from (\d+) packets", rout, re.M)
check(m and int(m.group(1)) == len(rows) >= 30 and ("tls", "-") in rows and
      any(o == "rejected" for _, o in rows), "its table lists every association of the captures "
      "(cleartext, TLS, rejected)", (m and m.group(0), len(rows)))
for sid in ("9100010", "9100051", "9100110", "9100111"):
    check(re.search(r"^ALERT %s " % sid, rout, re.M), "replay demo: alert %s printed" % sid)
check(re.search(r'^dicomon_associations_total\{transport="cleartext",outcome="released"\} \d+$', rout, re.M),
      "replay demo: the metrics excerpt")
check(re.search(r"^   [1-9]\d* pcaps in --evidence DIR", rout, re.M) and "A-ASSOCIATE request" in rout,
      "replay demo: evidence pcaps written, one dissected by tshark")
check("REPLAY*" not in rout and "PatientName=" not in rout,
      "replay demo: the captured DICOMweb query value is not shown")
left = [d for d in os.listdir("/tmp") if d.startswith("dmdemo-replay.")]
check(not left, "replay demo: no scratch directory left", left)
print("demo: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
