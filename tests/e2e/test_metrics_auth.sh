#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# /metrics secured by metrics.web_config_file (the exporter-toolkit format),
# inside a namespace pair of the test's own (the endpoint on its loopback):
#   - a bad web config stops the start: exit 2, FILE:LINE:COLUMN in the message;
#   - Prometheus (Debian's package) scrapes over TLS with a client certificate
#     and basic auth: target up, samples stored;
#   - curl: no credentials -> 401 with WWW-Authenticate, a wrong password -> 401,
#     a burst of wrong passwords -> 429 past one bcrypt a second, plain HTTP -> no answer, no client certificate or one from another CA ->
#     refused, the right certificate and password -> 200; the refusals counted;
#   - 200 slowloris connections from 127.0.0.2 (a TLS ClientHello trickled one
#     byte every 0.5 s, reconnecting when closed) while 5 scrapes from 127.0.0.1
#     each answer in under a second; the per-address limit holds the attacker's
#     connections at 8. Then the same on plain HTTP (an endless request header),
#     metrics.connections_per_address set to 4.
#
#   sudo tests/e2e/test_metrics_auth.sh [DICOMON]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"

DICOMON=${1:-${DICOMON:-$REPO/.output/dicomon}}
[[ $EUID -eq 0 ]] || e2e_die "must run as root (network namespaces, XDP)"
e2e_need ip ss python3 curl openssl prometheus promtool htpasswd timeout env
[[ -x $DICOMON ]] || e2e_die "dicomon binary not found: $DICOMON"

PFX="dmmtls-$$"
NS_CLI=$PFX-cli NS_SRV=$PFX-srv
CLI_IP=10.221.0.1 SRV_IP=10.221.0.2
PORT=9479
PASS='scrape-me-9'
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
E2E_TMP=$(mktemp -d "/tmp/$PFX.XXXXXX")
W=$E2E_TMP
mkdir -p "$W/logs" "$W/tsdb" "$W/web"

FAILED=0
pass() { printf 'PASS %s\n' "$*"; }
fail() {
    printf 'FAIL %s\n' "$*"
    FAILED=$((FAILED + 1))
}
check() { # NAME CMD...
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
in_srv() { ip netns exec "$NS_SRV" "$@"; }

e2e_pair "$NS_CLI" "$NS_SRV" "$CLI_IP" "$SRV_IP"
e2e_make_pki "$W"
# The server's certificate names the address Prometheus dials (Go wants a SAN).
(
    cd "$W/web"
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
        -subj "/CN=dicomon-metrics" 2>/dev/null
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
    openssl x509 -req -in server.csr -CA ../ca.crt -CAkey ../ca.key \
        -set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 -extfile server.ext \
        -out server.crt 2>/dev/null
    cp ../ca.crt clients-ca.crt
    # a client certificate from a CA dicomon does not trust
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout rogue.key \
        -out rogue.crt -subj "/CN=rogue" 2>/dev/null
)
HASH=$(htpasswd -nbBC 10 "" "$PASS" | tr -d ':\n')
cat >"$W/web/web.yml" <<YML
# relative names: next to this file
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: clients-ca.crt
  min_version: TLS12
basic_auth_users:
  prometheus: $HASH
YML

start_dicomon() { # NAME [-o key=value...]
    local name=$1
    shift
    e2e_dicomon_start "$name" "$NS_SRV" "$W/$name.jsonl" "$W/logs/$name.err" \
        "$DICOMON" run -i eth0 --json -o "table.status_socket=$W/$name.sock" \
        -o "metrics.listen=127.0.0.1:$PORT" "$@"
    PID_DICOMON=$E2E_DICOMON_PID
}

# ---------------------------------------------------------------- a bad web config
e2e_log "bad web config: exit 2 with the line and column"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: missing.key\n' >"$W/web/bad.yml"
rc=0
in_srv "$DICOMON" run -i eth0 -o "metrics.web_config_file=$W/web/bad.yml" \
    >"$W/logs/bad.out" 2>"$W/logs/bad.err" || rc=$?
check "bad web config: exit 2 (got $rc)" test "$rc" -eq 2
check "bad web config: names bad.yml:3:13 and the file" \
    grep -q "bad.yml:3:13: key_file: cannot read '$W/web/missing.key'" "$W/logs/bad.err"
rc=0
in_srv "$DICOMON" run -i eth0 --check -o "metrics.web_config_file=$W/web/bad.yml" \
    >"$W/logs/check.out" 2>"$W/logs/check.err" || rc=$?
check "bad web config: --check exits 2 too (got $rc)" test "$rc" -eq 2
check "bad web config: --check says the same" \
    grep -q "bad.yml:3:13: key_file: cannot read" "$W/logs/check.err"
check_good() { in_srv "$DICOMON" run -i eth0 --check -o "metrics.web_config_file=$W/web/web.yml" >/dev/null; }
check "good web config: --check passes" check_good

# ---------------------------------------------------------------- TLS + client cert + basic auth
start_dicomon dicomon -o "metrics.web_config_file=$W/web/web.yml"
CURL=(curl -sS -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n')
GOOD=(--cacert "$W/ca.crt" --cert "$W/client.crt" --key "$W/client.key")
URL=https://127.0.0.1:$PORT/metrics
code() { in_srv "${CURL[@]}" "$@" 2>/dev/null | awk '{print $1}' || true; }
e2e_wait_for 10 "/metrics over TLS" test "$(code "${GOOD[@]}" -u "prometheus:$PASS" "$URL")" = 200 ||
    e2e_die "dicomon's /metrics does not answer over TLS: $(tail -n 5 "$W/logs/dicomon.err")"

cat >"$W/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: dicomon
    scheme: https
    tls_config:
      ca_file: $W/ca.crt
      cert_file: $W/client.crt
      key_file: $W/client.key
    basic_auth:
      username: prometheus
      password_file: $W/prom.pass
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YML
printf '%s' "$PASS" >"$W/prom.pass"
promtool check config "$W/prometheus.yml" >"$W/logs/promtool.out" 2>&1 ||
    e2e_die "promtool check config: $(cat "$W/logs/promtool.out")"
e2e_bg prometheus "$W/logs/prometheus.out" "$W/logs/prometheus.err" \
    ip netns exec "$NS_SRV" prometheus --config.file="$W/prometheus.yml" \
    --storage.tsdb.path="$W/tsdb" --web.listen-address=127.0.0.1:9090 \
    --storage.tsdb.retention.time=1h --log.level=warn
PID_PROM=$E2E_LAST_PID
prom() { # EXPR -> the first value, or nothing
    in_srv curl -sS --max-time 5 "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' \
            2>/dev/null || true
}
# shellcheck disable=SC2317 # called through e2e_wait_for
prom_has_scrapes() { [[ "$(prom 'count_over_time(dicomon_packets_total{class="dicom"}[1m])')" -ge 3 ]] 2>/dev/null; }
e2e_wait_for 40 "prometheus stored 3 scrapes" prom_has_scrapes || true
check "prometheus over TLS + client cert + basic auth: up = 1" test "$(prom 'up{job="dicomon"}')" = 1
check "prometheus stored at least 3 scrapes ($(prom 'count_over_time(dicomon_packets_total{class="dicom"}[1m])'))" \
    prom_has_scrapes
e2e_stop "$PID_PROM" TERM 10 || true

hdrs=$(in_srv curl -sS -D - -o /dev/null --max-time 5 "${GOOD[@]}" "$URL" 2>&1 || true)
check "no credentials: 401" grep -q '^HTTP/1.1 401' <<<"$hdrs"
check "no credentials: WWW-Authenticate: Basic realm=\"dicomon\"" \
    grep -qi '^WWW-Authenticate: Basic realm="dicomon"' <<<"$hdrs"
# a password the cache does not know costs a bcrypt: one a second per address
sleep 1.1
check "wrong password: 401" test "$(code "${GOOD[@]}" -u prometheus:wrong "$URL")" = 401
sleep 1.1
check "unknown user: 401" test "$(code "${GOOD[@]}" -u nobody:"$PASS" "$URL")" = 401
sleep 1.1
burst=""
for i in 1 2 3 4 5 6; do burst+="$(code "${GOOD[@]}" -u "prometheus:guess$i" "$URL") "; done
n401=$(awk '{for (i = 1; i <= NF; i++) n += $i == 401} END {print n + 0}' <<<"$burst")
n429=$(awk '{for (i = 1; i <= NF; i++) n += $i == 429} END {print n + 0}' <<<"$burst")
check "6 wrong passwords at once: at most 2 checked (401), the rest 429 ($burst)" \
    test "$n401" -le 2 -a $((n401 + n429)) -eq 6
check "right password: 200" test "$(code "${GOOD[@]}" -u "prometheus:$PASS" "$URL")" = 200
plain=$(code -u "prometheus:$PASS" "http://127.0.0.1:$PORT/metrics")
check "plain HTTP: no answer (got '$plain')" test "$plain" = 000
nocert=$(code --cacert "$W/ca.crt" -u "prometheus:$PASS" "$URL")
check "no client certificate: 403 (got '$nocert')" test "$nocert" = 403
rogue=$(code --cacert "$W/ca.crt" --cert "$W/web/rogue.crt" --key "$W/web/rogue.key" \
    -u "prometheus:$PASS" "$URL")
check "client certificate of another CA: refused (got '$rogue')" test "$rogue" = 403
refused=$(in_srv curl -sS --max-time 5 "${GOOD[@]}" -u "prometheus:$PASS" "$URL" |
    awk '/^dicomon_metrics_requests_refused_total/ {print $1 "=" $2}' | sort | tr '\n' ' ')
check "refusals counted (auth $((3 + n401)): none, wrong, unknown user, the burst's; client_cert 2; auth_throttled $n429): $refused" \
    python3 - "$refused" $((3 + n401)) "$n429" <<'PY'
import sys
v = dict(kv.rsplit("=", 1) for kv in sys.argv[1].split())
g = lambda r: float(v.get('dicomon_metrics_requests_refused_total{reason="%s"}' % r, -1))
sys.exit(0 if g("auth") == int(sys.argv[2]) and g("client_cert") == 2
         and g("auth_throttled") == int(sys.argv[3]) else 1)
PY

# ---------------------------------------------------------------- slowloris
# N scrapes from 127.0.0.1 while 200 connections from 127.0.0.2 trickle bytes.
slowloris_scrapes() { # MODE LIMIT URL CURL-ARGS...
    local mode=$1 limit=$2 url=$3 i t c held ok=0 times=""
    shift 3
    ip netns exec "$NS_SRV" python3 "$HERE/slowloris.py" --src 127.0.0.2 --dst 127.0.0.1 \
        --port "$PORT" --conns 200 --seconds 14 --mode "$mode" >"$W/logs/slowloris-$mode.out" \
        2>"$W/logs/slowloris-$mode.err" &
    local pid=$!
    E2E_PIDS+=("$pid")
    E2E_PIDNAMES+=("slowloris-$mode")
    sleep 4
    held=$(in_srv ss -Htn state established "( sport = :$PORT and dst 127.0.0.2 )" | wc -l)
    for i in 1 2 3 4 5; do
        read -r c t < <(in_srv "${CURL[@]}" "$@" "$url" 2>/dev/null || echo "000 9")
        times+="$t "
        if [[ $c == 200 ]] && python3 -c "import sys; sys.exit(0 if float('$t') < 1.0 else 1)"; then
            ok=$((ok + 1))
        fi
        sleep 1
    done
    wait "$pid" || true
    e2e_log "slowloris $mode: $(cat "$W/logs/slowloris-$mode.out"); server side held $held; scrape times: $times"
    check "slowloris ($mode): 5 of 5 scrapes answered 200 in under 1 s (times $times)" test "$ok" -eq 5
    check "slowloris ($mode): the attacker holds at most $limit connections (held $held)" \
        test "$held" -ge 1 -a "$held" -le "$limit"
    check "slowloris ($mode): the attacker kept trying (over 200 connects, refused ones closed)" \
        python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["connects"] > 200 and s["closed_by_server"] > 0 else 1)' \
        "$W/logs/slowloris-$mode.out"
}
e2e_log "slowloris over TLS: 200 connections from 127.0.0.2"
slowloris_scrapes tls 8 "$URL" "${GOOD[@]}" -u "prometheus:$PASS"
e2e_stop "$PID_DICOMON" INT 10 || fail "dicomon (TLS) did not exit cleanly"

e2e_log "slowloris over plain HTTP (no web config, metrics.connections_per_address 4)"
start_dicomon dicomon-plain -o metrics.connections_per_address=4
e2e_wait_for 10 "/metrics" test "$(code "http://127.0.0.1:$PORT/metrics")" = 200 ||
    e2e_die "plain /metrics does not answer"
slowloris_scrapes http 4 "http://127.0.0.1:$PORT/metrics"
e2e_stop "$PID_DICOMON" INT 10 || fail "dicomon (plain) did not exit cleanly"

printf 'metrics auth: %s\n' "$([[ $FAILED -eq 0 ]] && echo "all passed" || echo "$FAILED failed")"
exit $((FAILED > 0))
