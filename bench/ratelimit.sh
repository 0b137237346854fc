#!/usr/bin/env bash
# Tollgate with rate limits on Redis vs the same route without: end-to-end throughput, CPU per request on the proxy,
# and Redis calls per request, interleaved rounds on one machine.
#
#   bench/ratelimit.sh                         # 3 rounds of 10 s per target
#   ROUNDS=5 DURATION=10 bench/ratelimit.sh
#
# Targets (one Tollgate, one config, three routes to the same nginx upstream with a 128-byte body):
#   plain   /plain:  no limit
#   leased  /leased: per-key limit, 10,000,000/s (never binding), leased from Redis (L from the rule: burst / 2)
#   exact   /exact:  the same limit in exact mode: one Redis script call per request
# Every request carries "X-Api-Key: bench-key-0001" (one key: the hottest case for the limiter).
#
# Environment (defaults in brackets): ROUNDS [3], DURATION [10] s per run, WARMUP [10] s per route before measuring,
# CONNS [64] wrk connections, DEADLINE [15ms] tollgate.redis.deadline, PROXY_CPU [1] (Tollgate, alone), LOAD_CPU [0] (wrk, nginx upstream, redis-server),
# BASE_PORT [28180]: upstream, Tollgate, admin, Redis on BASE..BASE+3 (loopback), TOLLGATE_JAVA_OPTS.
#
# Output: per-run lines and a markdown summary (medians) on stdout and in bench/results/ratelimit-<timestamp>.txt.
# Everything started here is stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY, CLK_TCK and the functions shared by the scripts
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
CONNS=${CONNS:-64}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-28180}
DEADLINE=${DEADLINE:-15ms}
UP_PORT=$BASE_PORT
TG_PORT=$((BASE_PORT + 1))
ADMIN_PORT=$((BASE_PORT + 2))
REDIS_PORT=$((BASE_PORT + 3))

install_missing wrk:wrk redis-server:redis-server nginx:nginx
NGINX_BIN=$(nginx_bin)
jar="$repo/gateway/target/tollgate.jar"
if [ ! -f "$jar" ]; then
  mvn_package gateway offline online >&2
fi

open_results # $stamp, $out (bench/results/ratelimit-<stamp>.txt) for log(), scratch folder $work
stop_on_exit pause

nginx_upstream_conf "$UP_PORT" >"$work/upstream.conf"
taskset -c "$LOAD_CPU" "$NGINX_BIN" -c "$work/upstream.conf" -p "$work" >/dev/null 2>&1 &
PIDS+=("$!")
taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
PIDS+=("$!")

cat >"$work/tollgate.conf" <<EOF
tollgate {
  event-loops = 1
  listeners = [{ name = main, address = "127.0.0.1", port = $TG_PORT }]
  admin { address = "127.0.0.1", port = $ADMIN_PORT }
  access-log.enabled = false
  upstreams { app { endpoints = ["127.0.0.1:$UP_PORT"] } }
  redis { uris = ["redis://127.0.0.1:$REDIS_PORT"], instances = 1, deadline = $DEADLINE }
  limits {
    leased { rate = 10000000, key { header = x-api-key }, mode = leased }
    exact { rate = 10000000, key { header = x-api-key }, mode = exact }
  }
  routes = [
    { name = plain, match { path-prefix = "/plain" }, upstream = app }
    { name = leased, match { path-prefix = "/leased" }, upstream = app, rate-limits = [leased] }
    { name = exact, match { path-prefix = "/exact" }, upstream = app, rate-limits = [exact] }
  ]
}
EOF
sleep 0.5
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$jar" run --config "$work/tollgate.conf" >"$work/tollgate.log" 2>&1 &
TG_PID=$!
PIDS+=("$TG_PID")
wait_for 100 0.2 curl -fsS "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1

metric() { # $1 = family, $2 $3 = optional label texts a sample must contain; prints the sum of the samples
  curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v name="$1" -v f1="${2:-}" -v f2="${3:-}" '
    $1 ~ "^"name"([{]|$)" && index($1, f1) > 0 && index($1, f2) > 0 { s += $NF } END { printf "%.0f\n", s }'
}
run_wrk() { # $1 = path, $2 = seconds -> requests/s and requests
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${2}s" -H "X-Api-Key: bench-key-0001" \
    "http://127.0.0.1:$TG_PORT$1" >"$work/wrk.txt" 2>&1
  local rps reqs non2xx
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk.txt")
  reqs=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.txt")
  echo "$rps $reqs ${non2xx:-0}"
}

log "host: $(uname -srm), $(nproc) cores; Tollgate on cpu $PROXY_CPU; wrk, nginx upstream and redis-server on cpu $LOAD_CPU"
log "java: $(java -version 2>&1 | head -1); redis: $(redis-server --version | awk '{print $3}'); conns $CONNS, ${DURATION}s runs, Redis deadline $DEADLINE"
for t in plain leased exact; do run_wrk "/$t" "$WARMUP" >/dev/null; done

declare -A RPS CPU CALLS FAILED
order=(plain leased exact)
for round in $(seq "$ROUNDS"); do
  for i in 0 1 2; do
    t=${order[$(( (i + round - 1) % 3 ))]} # rotate the order per round
    f0=$(metric tollgate_ratelimit_decisions_total "limit=\"$t\"" "source=\"fail_") # fail_open, fail_closed
    g0=$(metric tollgate_ratelimit_decisions_total "limit=\"$t\"" "source=\"local_fallback")
    c0=$(metric tollgate_ratelimit_redis_calls_total)
    k0=$(cpu_ticks tollgate)
    read -r rps reqs non2xx < <(run_wrk "/$t" "$DURATION")
    k1=$(cpu_ticks tollgate)
    c1=$(metric tollgate_ratelimit_redis_calls_total)
    f1=$(metric tollgate_ratelimit_decisions_total "limit=\"$t\"" "source=\"fail_")
    g1=$(metric tollgate_ratelimit_decisions_total "limit=\"$t\"" "source=\"local_fallback")
    failed=$(awk -v a="$((f0 + g0))" -v b="$((f1 + g1))" -v n="$reqs" 'BEGIN { printf "%.4f", (b - a) / n }')
    cpu_us=$(awk -v a="$k0" -v b="$k1" -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
    calls=$(awk -v a="$c0" -v b="$c1" -v n="$reqs" 'BEGIN { printf "%.4f", (b - a) / n }')
    log "round $round $t: $rps req/s, $reqs requests, non-2xx $non2xx, $cpu_us us CPU/request (proxy), $calls Redis calls/request, $failed decided by the failure mode"
    RPS[$t]+="$rps "
    CPU[$t]+="$cpu_us "
    CALLS[$t]+="$calls "
    FAILED[$t]+="$failed "
  done
done
log ""
log "| route | req/s (median of $ROUNDS) | vs plain | CPU per request (proxy) | Redis calls per request | decided by failure mode |"
log "|---|---|---|---|---|---|"
base=$(echo "${RPS[plain]}" | median -g)
for t in plain leased exact; do
  r=$(echo "${RPS[$t]}" | median -g)
  log "| $t | $r | $(awk -v a="$r" -v b="$base" 'BEGIN { printf "%.3f", a / b }') | $(echo "${CPU[$t]}" | median -g) us | $(echo "${CALLS[$t]}" | median -g) | $(echo "${FAILED[$t]}" | median -g) |"
done
log "results: $out"
