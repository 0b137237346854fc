#!/usr/bin/env bash
# Throughput and CPU per request of one Tollgate route with an access policy vs the same route without, same
# gateway process, interleaved wrk runs (issue 6: "within 5% of the same route without").
#
#   bench/compare-policy.sh                       # 5 rounds of 10 s per route
#   ROUNDS=3 DURATION=5 bench/compare-policy.sh
#
# Environment [defaults]: ROUNDS [5], DURATION [10] s per run, WARMUP [15] s (split over both routes), CONNS [64],
# PROXY_CPU [1] (the whole JVM), LOAD_CPU [0] (wrk and the nginx upstream), BASE_PORT [28180]: upstream, Tollgate,
# Tollgate admin; TOLLGATE_JAVA_OPTS [the production options of ./tollgate].
#
# Routes: /open/... (no policy) and /policy/... (bench/policy/bench-policy.conf: method, path glob, host, route and
# a header, allowed by its last rule, one header added upstream). Both proxy to one nginx upstream (128-byte body).
# Output: per run req/s and Tollgate CPU microseconds per request (utime+stime of the JVM over the run / requests),
# and the median ratio policy/open of each. Everything started here is stopped on exit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY, CLK_TCK and the functions shared by the scripts
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-15}
CONNS=${CONNS:-64}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-28180}
UP_PORT=$BASE_PORT
TG_PORT=$((BASE_PORT + 1))
ADMIN_PORT=$((BASE_PORT + 2))
NGINX_BIN=$(nginx_bin)
require_tools "apt-get install wrk nginx" wrk taskset curl nginx
jar="$repo/gateway/target/tollgate.jar"
[ -f "$jar" ] || mvn_package gateway offline >&2

new_work tollgate-compare-policy # $work, no results file: this script prints to stdout only
stop_on_exit pause

nginx_upstream_conf "$UP_PORT" >"$work/upstream.conf"
cat >"$work/tollgate.conf" <<TG
tollgate {
  event-loops = 1
  listeners = [{ name = main, address = "127.0.0.1", port = $TG_PORT }]
  admin { address = "127.0.0.1", port = $ADMIN_PORT }
  access-log.enabled = false
  upstreams { up { endpoints = ["127.0.0.1:$UP_PORT"] } }
  policies { bench { file = "$here/policy/bench-policy.conf" } }
  routes = [
    { name = open, match { path-prefix = "/open" }, upstream = up }
    { name = policy, match { path-prefix = "/policy" }, upstream = up, policy = bench }
  ]
}
TG
taskset -c "$LOAD_CPU" "$NGINX_BIN" -c "$work/upstream.conf" &
PIDS+=("$!")
# shellcheck disable=SC2086
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$jar" run --config "$work/tollgate.conf" >"$work/tollgate.log" 2>&1 &
TG_PID=$!
PIDS+=("$TG_PID")
wait_for 100 0.2 curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1
curl -sf -H 'x-api-key: k' "http://127.0.0.1:$TG_PORT/policy/1/items" >/dev/null \
  || { echo "compare-policy: the policy route does not answer 200" >&2; cat "$work/tollgate.log" >&2; exit 1; }

url() { [ "$1" = open ] && echo "http://127.0.0.1:$TG_PORT/open/1/items?id=7" \
  || echo "http://127.0.0.1:$TG_PORT/policy/1/items?id=7"; }
run() { # $1 route, $2 seconds -> "req/s us-cpu-per-request"
  local t0 t1 out reqs
  t0=$(cpu_ticks tollgate)
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$2"s -H 'x-api-key: k' "$(url "$1")")
  t1=$(cpu_ticks tollgate)
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$out" | grep -q 'Non-2xx' && { echo "compare-policy: non-2xx answers on $1" >&2; echo "$out" >&2; exit 1; }
  awk -v r="$reqs" -v d="$2" -v c="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN {printf "%.0f %.2f\n", r / d, c / hz * 1e6 / r}'
}
for _ in 1 2 3 4 5; do run open $((WARMUP / 10 + 1)) >/dev/null; run policy $((WARMUP / 10 + 1)) >/dev/null; done
echo "round route   req/s   cpu-us/req"
declare -a RATIO_RPS RATIO_CPU
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="open policy"; else order="policy open"; fi
  declare -A res=()
  for route in $order; do
    res[$route]=$(run "$route" "$DURATION")
    echo "$r     $route $(echo "${res[$route]}" | awk '{printf "%7d   %6.2f", $1, $2}')"
  done
  RATIO_RPS+=("$(awk -v a="${res[policy]% *}" -v b="${res[open]% *}" 'BEGIN {printf "%.3f", a / b}')")
  RATIO_CPU+=("$(awk -v a="${res[policy]#* }" -v b="${res[open]#* }" 'BEGIN {printf "%.3f", a / b}')")
done
echo "policy/open throughput ratios: ${RATIO_RPS[*]} (median $(echo "${RATIO_RPS[*]}" | median))"
echo "policy/open CPU-per-request ratios: ${RATIO_CPU[*]} (median $(echo "${RATIO_CPU[*]}" | median))"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
