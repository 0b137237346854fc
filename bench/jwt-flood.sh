#!/usr/bin/env bash
# What a flood of forged tokens does to everyone else: one wrk sends well-formed ES256 tokens with random
# signatures (bench/jwt-flood.lua: never cached, every one a signature check) at a JWT route, while a second wrk
# measures an open route of the same gateway. Compares two builds side by side in interleaved rounds, typically
# main (signatures checked on the event loop) against a branch (checked on the verifier pool).
#
#   BASE_JAR=/tmp/tollgate-main.jar bench/jwt-flood.sh         # base vs this checkout's gateway/target/tollgate.jar
#   ROUNDS=3 DURATION=10 FLOOD_CONNS=32 bench/jwt-flood.sh     # only this checkout's build
#
# Environment [defaults]: ROUNDS [3], DURATION [10] s of measurement per run, WARMUP [8] s per gateway,
# OPEN_CONNS [16] and FLOOD_CONNS [32] (wrk -t1 each), EVENT_LOOPS [2], BASE_PORT [28190], NICE [0],
# BASE_JAR [none], NEW_JAR [gateway/target/tollgate.jar].
# Per round and gateway: the open route's req/s and p50/p99 alone ("quiet"), then under the flood ("flood"), the
# flood's req/s, and the gateway's auth outcomes during the flood (bad_signature, auth_overloaded). No pinning:
# with 2 cores the gateway's loops, its verifier thread, both wrk and the nginx upstream share them, as they would
# on a small node; the load average before and after each run is printed because other work skews everything.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY and the functions shared by the scripts
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-8}
OPEN_CONNS=${OPEN_CONNS:-16}
FLOOD_CONNS=${FLOOD_CONNS:-32}
EVENT_LOOPS=${EVENT_LOOPS:-2}
BASE_PORT=${BASE_PORT:-28190}
NICE=${NICE:-0}
NEW_JAR=${NEW_JAR:-$repo/gateway/target/tollgate.jar}
BASE_JAR=${BASE_JAR:-}
NGINX_BIN=$(nginx_bin)
UP_PORT=$BASE_PORT

mvn_package bench offline online >&2
apply_nice
open_results # $stamp, $out (bench/results/jwt-flood-<stamp>.txt) for log(), scratch folder $work
stop_on_exit pause

jwt_fixture # $TOKEN, $work/jwks.json
FORGE_PREFIX=${TOKEN%.*}   # the valid token's header and claims: forgeries differ only in the signature
export FORGE_PREFIX
nginx_upstream_conf "$UP_PORT" >"$work/upstream.conf"
"$NGINX_BIN" -p "$work" -c "$work/upstream.conf" >"$work/upstream.out" 2>&1 &
PIDS+=("$!")

declare -A JAR PORT ADMIN
NAMES=()
add_gateway() { # $1 name, $2 jar, $3 port offset
  NAMES+=("$1"); JAR[$1]=$2; PORT[$1]=$((BASE_PORT + $3)); ADMIN[$1]=$((BASE_PORT + $3 + 1))
  jwt_gateway_conf "$EVENT_LOOPS" "${PORT[$1]}" "${ADMIN[$1]}" >"$work/$1.conf"
  # shellcheck disable=SC2086
  java $JAVA_OPTS -jar "$2" run --config "$work/$1.conf" >"$work/$1.out" 2>"$work/$1.err" &
  PIDS+=("$!")
}
[ -n "$BASE_JAR" ] && add_gateway base "$BASE_JAR" 10
add_gateway new "$NEW_JAR" 20
for n in "${NAMES[@]}"; do
  wait_for 300 0.1 curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:${ADMIN[$n]}/readyz"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:${PORT[$n]}/v1/orgs/acme/x")
  [ "$code" = 200 ] || { echo "jwt-flood: $n's JWT route answered $code" >&2; exit 1; }
done

# "rps p50 p99" of the open route for $2 seconds on gateway $1
open_wrk() {
  wrk -t1 -c"$OPEN_CONNS" -d"${2}s" --latency "http://127.0.0.1:${PORT[$1]}/open/item?id=42" | awk '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
    END { print rps, p50, p99 }'
}
flood_wrk() { # gateway, seconds -> req/s of the flood (every answer is a refusal)
  wrk -t1 -c"$FLOOD_CONNS" -d"${2}s" -s "$here/jwt-flood.lua" "http://127.0.0.1:${PORT[$1]}/v1/orgs/acme/x" \
    | awk '/Requests\/sec/ { print $2 }'
}
auth_count() { # gateway, reason -> tollgate_auth_requests_total for it
  curl -s "http://127.0.0.1:${ADMIN[$1]}/metrics" \
    | awk -v r="reason=\"$2\"" 'index($0, "tollgate_auth_requests_total{") == 1 && index($0, r) { s += $2 } END { printf "%d", s }'
}

log "# forged-token flood vs an open route, $stamp"
log "host: $(uname -srm), $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
log "gateways: ${NAMES[*]} (base=$BASE_JAR, new=$NEW_JAR), event-loops=$EVENT_LOOPS; open wrk -t1 -c$OPEN_CONNS,"
log "flood wrk -t1 -c$FLOOD_CONNS -s bench/jwt-flood.lua; ${DURATION}s per run"
for n in "${NAMES[@]}"; do
  flood_wrk "$n" "$WARMUP" >/dev/null
  open_wrk "$n" "$WARMUP" >/dev/null
done
log ""
log "| round | gateway | open alone req/s (p50, p99) | open under flood req/s (p50, p99) | flood req/s | bad_signature | auth_overloaded | load avg |"
log "|---|---|---|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  order=("${NAMES[@]}")
  if [ $((round % 2)) = 0 ] && [ ${#NAMES[@]} = 2 ]; then order=("${NAMES[1]}" "${NAMES[0]}"); fi
  for n in "${order[@]}"; do
    read -r q_rps q_p50 q_p99 < <(open_wrk "$n" "$DURATION")
    bad0=$(auth_count "$n" bad_signature); ovl0=$(auth_count "$n" auth_overloaded)
    flood_wrk "$n" "$((DURATION + 2))" >"$work/flood.rps" &
    fpid=$!
    sleep 1
    read -r f_rps f_p50 f_p99 < <(open_wrk "$n" "$DURATION")
    wait "$fpid"
    bad1=$(auth_count "$n" bad_signature); ovl1=$(auth_count "$n" auth_overloaded)
    log "| $round | $n | $q_rps ($q_p50, $q_p99) | $f_rps ($f_p50, $f_p99) | $(cat "$work/flood.rps") | $((bad1 - bad0)) | $((ovl1 - ovl0)) | $(cut -d' ' -f1 /proc/loadavg) |"
  done
done
log ""
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg); results in $out"
