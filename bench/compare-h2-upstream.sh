#!/usr/bin/env bash
# Tollgate vs nginx proxying HTTP/2 to an HTTP/2 upstream (the shape of gRPC traffic): h2load over cleartext h2
# (prior knowledge) to each proxy, each proxy to the same nginx h2c origin; same machine, interleaved rounds.
#
#   bench/compare-h2-upstream.sh                    # 3 rounds of 10 s
#   ROUNDS=5 DURATION=10 NICE=-10 bench/compare-h2-upstream.sh
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [10]  WARMUP [15] (s, Tollgate's JIT)  H2_CLIENTS [16] H2_STREAMS [16] (h2load -c/-m)
#   PROXY_CPU [1] LOAD_CPU [0]  NICE [0]  BASE_PORT [29480]  TOLLGATE_JAR [gateway/target/tollgate.jar]
#   TOLLGATE_JAVA_OPTS [as ./tollgate]  UPSTREAM_KEEPALIVE [300] (nginx's idle upstream connections)
#
# nginx proxies with grpc_pass (its only HTTP/2-to-upstream path; it proxies any request, not only gRPC) over
# keep-alive upstream connections, one request at a time on each (nginx does not multiplex upstream streams), so it
# gets room for every stream h2load keeps in flight; Tollgate with an upstream of protocol = h2 multiplexes. Both proxies run pinned alone to
# PROXY_CPU; h2load and the origin nginx share LOAD_CPU. Reported: requests/s and proxy CPU us per request, medians,
# ratios. Output: stdout and bench/results/compare-h2-upstream-<timestamp>.txt, ending with a markdown table.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY, CLK_TCK and the functions shared by the scripts
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-15}
H2_CLIENTS=${H2_CLIENTS:-16}
H2_STREAMS=${H2_STREAMS:-16}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
NICE=${NICE:-0}
BASE_PORT=${BASE_PORT:-29480}
UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-300}
jar=${TOLLGATE_JAR:-$repo/gateway/target/tollgate.jar}
UP_PORT=$BASE_PORT
NGX_PORT=$((BASE_PORT + 1))
TG_PORT=$((BASE_PORT + 2))
ADMIN_PORT=$((BASE_PORT + 3))

require_tools "apt-get install -y nghttp2-client nginx curl" h2load nginx taskset curl
NGINX_BIN=$(nginx_bin)
[ -f "$jar" ] || mvn_package gateway offline >&2
require_free_ports "$UP_PORT" "$NGX_PORT" "$TG_PORT" "$ADMIN_PORT"
apply_nice

open_results # $stamp, $out (bench/results/compare-h2-upstream-<stamp>.txt) for log(), scratch folder $work
stop_on_exit poll

nginx_conf origin >"$work/origin.conf" <<EOF
  http2_max_requests 1000000;
  http2_max_concurrent_streams 256;
  server { listen 127.0.0.1:$UP_PORT http2 backlog=4096; location / { default_type text/plain; return 200 "$BODY"; } }
EOF
nginx_conf proxy >"$work/proxy.conf" <<EOF
  http2_max_requests 1000000;
  http2_max_concurrent_streams 256;
  upstream origin { server 127.0.0.1:$UP_PORT; keepalive $UPSTREAM_KEEPALIVE; keepalive_requests 1000000; keepalive_timeout 120s; }
  server { listen 127.0.0.1:$NGX_PORT http2 backlog=4096; location / { grpc_pass grpc://origin; } }
EOF
cat >"$work/tollgate.conf" <<EOF
tollgate {
  event-loops = 1
  listeners = [{ name = main, address = "127.0.0.1", port = $TG_PORT }]
  admin { address = "127.0.0.1", port = $ADMIN_PORT }
  access-log.enabled = false
  http2 { cleartext = true, max-concurrent-streams = 256 }
  upstreams { origin { endpoints = ["127.0.0.1:$UP_PORT"], protocol = h2 } }
  routes = [{ name = all, upstream = origin }]
}
EOF

start_nginx "$LOAD_CPU" origin
UP_PID=$!
start_nginx "$PROXY_CPU" proxy
NGX_PID=$!
# shellcheck disable=SC2086
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$jar" run -c "$work/tollgate.conf" >"$work/tollgate.out" 2>"$work/tollgate.err" &
TG_PID=$!; PIDS+=("$TG_PID")
for port in $NGX_PORT $TG_PORT; do
  wait_for 300 0.1 curl -fs --http2-prior-knowledge -o /dev/null --max-time 1 "http://127.0.0.1:$port/"
  # A proxy that never answered would be measured at 0 req/s: stop and say which, with its log.
  curl -fs --http2-prior-knowledge -o /dev/null --max-time 2 "http://127.0.0.1:$port/" || {
    echo "compare-h2-upstream: the proxy on port $port does not answer; see $work" >&2; exit 1; }
done

declare -A PORT=([nginx]=$NGX_PORT [tollgate]=$TG_PORT)
h2() { # $1 target, $2 seconds -> h2load's summary
  taskset -c "$LOAD_CPU" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -D "$2" "http://127.0.0.1:${PORT[$1]}/bench" 2>/dev/null
}
measure() { # $1 target -> "req/s cpu_us_per_request"
  local before after summary n failed
  before=$(cpu_ticks "$1")
  summary=$(h2 "$1" "$DURATION")
  after=$(cpu_ticks "$1")
  n=$(echo "$summary" | awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i+1) == "req/s,") print $i }')
  failed=$(echo "$summary" | awk '/^requests:/ { for (i = 1; i <= NF; i++) if ($(i+1) == "failed,") print $i }')
  # To stderr (and the results file): stdout is this function's result, captured by the caller.
  [ "${failed:-0}" = 0 ] || log "  $1: $failed requests failed" >&2
  awk -v r="${n:-0}" -v d="$DURATION" -v ticks="$((after - before))" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.0f %.1f", r, (r > 0 ? ticks / hz * 1e6 / (r * d) : 0) }'
}

log "# Tollgate vs nginx, HTTP/2 to an HTTP/2 upstream, $stamp"
log "host: $(uname -srm), $(nproc) cores; nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*version: //')"
log "rounds=$ROUNDS duration=${DURATION}s h2load ${H2_CLIENTS}x${H2_STREAMS} nginx keepalive=$UPSTREAM_KEEPALIVE proxy core=$PROXY_CPU load core=$LOAD_CPU nice=$NICE jar=$jar"
for t in tollgate nginx; do h2 "$t" "$WARMUP" >/dev/null; done

declare -A RESULTS
for r in $(seq "$ROUNDS"); do
  order=(nginx tollgate); [ $((r % 2)) = 0 ] && order=(tollgate nginx)
  for t in "${order[@]}"; do
    res=$(measure "$t")
    RESULTS[$t]="${RESULTS[$t]:-} $res"
    log "round $r  $t: $(echo "$res" | awk '{printf "%s req/s, %s us CPU per request", $1, $2}')"
  done
done

nr=$(pair_field "${RESULTS[nginx]}" 1 | median); tr_=$(pair_field "${RESULTS[tollgate]}" 1 | median)
nc=$(pair_field "${RESULTS[nginx]}" 2 | median); tc=$(pair_field "${RESULTS[tollgate]}" 2 | median)
log ""
log "| h2 -> h2 upstream | nginx req/s | Tollgate req/s | ratio | nginx CPU us | Tollgate CPU us | CPU ratio |"
log "|---|---|---|---|---|---|---|"
log "$(awk -v nr="$nr" -v tr="$tr_" -v nc="$nc" -v tc="$tc" 'BEGIN {
  printf "| medians | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx |", nr, tr, (nr > 0 ? tr / nr : 0), nc, tc, (nc > 0 ? tc / nc : 0) }')"
log ""
log "results: $out"
