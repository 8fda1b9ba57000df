#!/usr/bin/env bash
# Stand-in for the dicomon binary, to exercise test_dcmtk.sh's process
# handling before the real binary exists. It emits no flow_end events, so a
# full run against it is expected to FAIL every association check.
#   FAKE_DICOMON_MODE=ok          ready line, stats line on SIGINT/SIGTERM, exit 0 (default)
#   FAKE_DICOMON_MODE=early-exit  error on stderr, exit 3 before "ready"
#   FAKE_DICOMON_MODE=no-ready    never prints the ready line
set -euo pipefail
mode=${FAKE_DICOMON_MODE:-ok}
case $mode in
    early-exit)
        echo "fake-dicomon: cannot attach XDP to $*" >&2
        exit 3
        ;;
    no-ready) exec sleep 60 ;;
esac
stop() {
    printf '{"event":"stats","flows":0}\n'
    exit 0
}
trap stop INT TERM
printf '{"event":"ready","fake":true,"args":"%s"}\n' "$*"
while :; do sleep 0.2; done
