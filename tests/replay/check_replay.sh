#!/usr/bin/env bash
# Replay the ground-truth captures through `dicomon replay --json` and check
# its association records against tshark's decode of the same packets.
#
#   tests/replay/check_replay.sh [-v] CAPTURE_DIR DICOMON
#   tests/replay/check_replay.sh [-v] --oracle-only CAPTURE_DIR
#
# For each CAPTURE_DIR/NAME.manifest.tsv (with NAME.pcap or NAME.pcapng and
# NAME.ports, as tests/replay/make_captures.sh writes them):
#   1. the oracle: tests/e2e/check_assoc.py extract (tshark, told the ports
#      in NAME.ports) and truth: tshark's view agrees with what the tools
#      were told (the manifest)
#   2. DICOMON replay --json CAPTURE > events.jsonl (extra arguments from
#      $REPLAY_ARGS, word-split; 300 s at most)
#   3. check_assoc.py check --replay CAPTURE: one flow_end per association,
#      field by field against tshark; none for HTTP rows or connections the
#      manifest does not list; pcap_filename/pcap_cnt on every line
# --oracle-only stops after 1. -v prints the checker's whole output.
# One line per capture, "PASS NAME ..." or "FAIL NAME ..." followed by the
# checker's FAIL lines; the last line is "replay: N passed, M failed".
# Exit 0 if M = 0, 1 otherwise, 2 on usage errors. No root needed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CHECK=(python3 "$REPO/tests/e2e/check_assoc.py")

usage() {
    sed -n '/^# Replay the ground-truth/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
    exit 2
}
VERBOSE=0 ORACLE_ONLY=0
ARGS=()
while (($#)); do
    case $1 in
        -v) VERBOSE=1 ;;
        --oracle-only) ORACLE_ONLY=1 ;;
        -h | --help) usage ;;
        -*) echo "check_replay: unknown option $1" >&2; usage ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done
if ((ORACLE_ONLY)); then
    ((${#ARGS[@]} == 1)) || usage
else
    ((${#ARGS[@]} == 2)) || usage
    DICOMON=${ARGS[1]}
    [[ -x $DICOMON ]] || { echo "check_replay: not executable: $DICOMON" >&2; exit 2; }
fi
DIR=${ARGS[0]}
[[ -d $DIR ]] || { echo "check_replay: no such directory: $DIR" >&2; exit 2; }
command -v tshark >/dev/null || { echo "check_replay: tshark is needed (the oracle)" >&2; exit 2; }
read -ra EXTRA <<<"${REPLAY_ARGS:-}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/check-replay.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
"${CHECK[@]}" profile --out "$TMP/storescu-many.cfg" --name ManyContexts

shopt -s nullglob
manifests=("$DIR"/*.manifest.tsv)
((${#manifests[@]})) || { echo "check_replay: no *.manifest.tsv in $DIR" >&2; exit 2; }

PASSED=0 FAILED=0
# fail NAME WHAT LOG : report a failed capture with the checker's FAIL lines
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL $1: $2"
    if ((VERBOSE)); then
        sed 's/^/    /' "$3"
    else
        grep -E '^(FAIL|note)' "$3" | head -n 40 | sed 's/^/    /' || true
    fi
}

for m in "${manifests[@]}"; do
    name=$(basename "$m" .manifest.tsv)
    base=$DIR/$name
    cap=""
    for ext in pcapng pcap; do
        [[ -f $base.$ext ]] && { cap=$base.$ext; break; }
    done
    w=$TMP/$name
    mkdir -p "$w"
    if [[ -z $cap || ! -f $base.ports ]]; then
        echo "no $name.pcap[ng] or $name.ports next to the manifest" >"$w/log"
        fail "$name" "incomplete capture set" "$w/log"
        continue
    fi
    # 1. the oracle
    if ! "${CHECK[@]}" extract --pcap "$cap" --ports-file "$base.ports" --out "$w/tshark.jsonl" \
        --payload-out "$w/payload.tsv" >"$w/log" 2>&1; then
        fail "$name" "tshark could not read $cap" "$w/log"
        continue
    fi
    COMMON=(--manifest "$m" --tshark "$w/tshark.jsonl" --payload "$w/payload.tsv"
        --profile "$TMP/storescu-many.cfg")
    if ! "${CHECK[@]}" truth "${COMMON[@]}" >"$w/truth.txt" 2>&1; then
        fail "$name" "oracle: tshark disagrees with the manifest ($(tail -n 1 "$w/truth.txt"))" "$w/truth.txt"
        continue
    fi
    if ((ORACLE_ONLY)); then
        PASSED=$((PASSED + 1))
        echo "PASS $name (oracle: $(tail -n 1 "$w/truth.txt"))"
        ((VERBOSE)) && sed 's/^/    /' "$w/truth.txt"
        continue
    fi
    # 2. dicomon replay
    rc=0
    timeout 300 "$DICOMON" replay --json "${EXTRA[@]}" "$cap" >"$w/events.jsonl" 2>"$w/replay.err" || rc=$?
    if ((rc == 124)); then
        echo "dicomon replay did not finish in 300 s" >>"$w/replay.err"
    fi
    # 3. its records against the oracle
    if "${CHECK[@]}" check "${COMMON[@]}" --events "$w/events.jsonl" --dicomon-rc "$rc" \
        --replay "$cap" >"$w/check.txt" 2>&1; then
        PASSED=$((PASSED + 1))
        echo "PASS $name ($(tail -n 1 "$w/check.txt"))"
        ((VERBOSE)) && sed 's/^/    /' "$w/check.txt"
    else
        if ((rc != 0)); then
            printf 'dicomon replay exit status %d; stderr:\n' "$rc" >>"$w/check.txt"
            tail -n 5 "$w/replay.err" | sed 's/^/FAIL (stderr) /' >>"$w/check.txt"
        fi
        fail "$name" "dicomon replay vs tshark ($(grep -E '^assoc:' "$w/check.txt" | tail -n 1))" "$w/check.txt"
    fi
done
echo "replay: $PASSED passed, $FAILED failed"
((FAILED == 0))
