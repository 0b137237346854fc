#!/usr/bin/env bash
# Cost of identity end to end: the same Tollgate process, the same upstream, two routes that differ only in auth,
# measured in interleaved rounds.
#
#   bench/jwt-compare.sh                       # 5 rounds of 10 s per route
#   ROUNDS=3 DURATION=5 bench/jwt-compare.sh
#
#   /open/...  proxy route, no auth (requests carry the same Authorization header, forwarded untouched)
#   /v1/orgs/acme/...  the same upstream behind an ES256 token (cache hit after the first request), the org checked
#              against the path template, a role rule, and three identity headers added upstream
#
# Environment [defaults]: ROUNDS [5], DURATION [10] s, WARMUP [10] s per route, CONNS [64], PROXY_CPU [1] (Tollgate,
# alone), LOAD_CPU [0] (wrk and the upstream nginx), BASE_PORT [28180] (upstream, Tollgate, admin), NICE [0].
# Reports requests/s and Tollgate CPU time per request for each route, per round and as medians, and the ratio.
# Everything started here is stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY, CLK_TCK and the functions shared by the scripts
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
CONNS=${CONNS:-64}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-28180}
NICE=${NICE:-0}
UP_PORT=$BASE_PORT
TG_PORT=$((BASE_PORT + 1))
ADMIN_PORT=$((BASE_PORT + 2))
NGINX_BIN=$(nginx_bin)

mvn_package bench offline online >&2
apply_nice
open_results # $stamp, $out (bench/results/jwt-compare-<stamp>.txt) for log(), scratch folder $work
stop_on_exit pause

jwt_fixture # $TOKEN, $work/jwks.json
nginx_upstream_conf "$UP_PORT" >"$work/upstream.conf"
jwt_gateway_conf 1 "$TG_PORT" "$ADMIN_PORT" >"$work/tollgate.conf"
start_nginx "$LOAD_CPU" upstream
# shellcheck disable=SC2086
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$repo/gateway/target/tollgate.jar" run --config "$work/tollgate.conf" \
  >"$work/tollgate.out" 2>"$work/tollgate.err" &
TG_PID=$!
PIDS+=("$TG_PID")
wait_for 300 0.1 curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/readyz"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$TG_PORT/v1/orgs/acme/x")
[ "$code" = 200 ] || { echo "jwt-compare: the JWT route answered $code" >&2; exit 1; }

declare -A PATHS=([open]="/open/item?id=42" [jwt]="/v1/orgs/acme/item?id=42")
run_wrk() { # $1 route, $2 seconds -> "rps cpu_us_per_request"
  local t0 t1 rps
  t0=$(cpu_ticks tollgate)
  # Both routes get the same request bytes (the open route forwards the Authorization header untouched), so the
  # difference is the identity filter's work alone.
  rps=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${2}s" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$TG_PORT${PATHS[$1]}" \
    | awk '/Requests\/sec/ { print $2 }')
  t1=$(cpu_ticks tollgate)
  awk -v r="$rps" -v d="$2" -v t="$((t1 - t0))" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.0f %.2f\n", r, (t / hz) * 1e6 / (r * d) }'
}

log "# Tollgate with and without JWT verification, $stamp"
log "host: $(uname -srm), $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
log "token: $(wc -c <"$work/token.txt") bytes, ES256; wrk -t1 -c$CONNS -d${DURATION}s; Tollgate on CPU $PROXY_CPU"
for r in open jwt; do run_wrk "$r" "$WARMUP" >/dev/null; done
declare -A RPS CPU
for round in $(seq "$ROUNDS"); do
  order=(open jwt)
  [ $((round % 2)) = 0 ] && order=(jwt open)
  for r in "${order[@]}"; do
    read -r rps cpu < <(run_wrk "$r" "$DURATION")
    RPS[$r]+="$rps "
    CPU[$r]+="$cpu "
    log "round $round $r: $rps req/s, $cpu us CPU per request"
  done
done
o_rps=$(echo "${RPS[open]}" | median); j_rps=$(echo "${RPS[jwt]}" | median)
o_cpu=$(echo "${CPU[open]}" | median); j_cpu=$(echo "${CPU[jwt]}" | median)
log ""
log "| route | req/s (median of $ROUNDS) | Tollgate CPU per request |"
log "|---|---|---|"
log "| proxy, no auth | $o_rps | $o_cpu us |"
log "| proxy + JWT (ES256, cached), org + role check, 3 identity headers | $j_rps | $j_cpu us |"
log "| ratio JWT / no auth | $(awk -v a="$j_rps" -v b="$o_rps" 'BEGIN { printf "%.3f", a / b }') | $(awk -v a="$j_cpu" -v b="$o_cpu" 'BEGIN { printf "%.3f", a / b }') |"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg); results in $out"
