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
repo="$(cd "$here/.." && pwd)"
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
JAVA_OPTS=${TOLLGATE_JAVA_OPTS:--Xms256m -Xmx256m -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled}
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)

(cd "$repo" && { mvn -B -q -o -DskipTests -pl bench -am package || mvn -B -q -DskipTests -pl bench -am package; }) >&2
if [ "$NICE" != 0 ]; then renice -n "$NICE" -p $$ >/dev/null; fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$here/results"
out="$here/results/jwt-compare-$stamp.txt"
work=$(mktemp -d "/tmp/tollgate-jwt-compare-$stamp.XXXXXX")
mkdir -p "$work/tmp"
log() { echo "$@" | tee -a "$out"; }
CLK_TCK=$(getconf CLK_TCK)

PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

java -cp "$here/target/benchmarks.jar" io.tollgate.bench.JwtFixture "$work"
TOKEN=$(cat "$work/token.txt")
BODY=$(printf 'x%.0s' $(seq 128))
cat >"$work/upstream.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/upstream.pid;
error_log $work/upstream-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$UP_PORT backlog=4096;
    location / { default_type text/plain; return 200 "$BODY"; }
  }
}
EOF
cat >"$work/tollgate.conf" <<EOF
tollgate {
  event-loops = 1
  listeners = [{ name = bench, address = "127.0.0.1", port = $TG_PORT }]
  admin { address = "127.0.0.1", port = $ADMIN_PORT }
  access-log.enabled = false
  upstreams { app { endpoints = ["127.0.0.1:$UP_PORT"] } }
  auth.issuers = [{ name = bench, iss = "https://login.bench.test/", audiences = [api], algorithms = [ES256],
                    jwks-file = "$work/jwks.json" }]
  routes = [
    { name = open, match.path-prefix = "/open/", upstream = app }
    { name = jwt, match.path-prefix = "/v1/orgs/", upstream = app, auth {
        issuers = [bench], org-path = "/v1/orgs/{org}/", rules = [{ any-of = [reader] }] } }
  ]
}
EOF
taskset -c "$LOAD_CPU" "$NGINX_BIN" -p "$work" -c "$work/upstream.conf" >"$work/upstream.out" 2>&1 &
PIDS+=($!)
# shellcheck disable=SC2086
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$repo/gateway/target/tollgate.jar" run --config "$work/tollgate.conf" \
  >"$work/tollgate.out" 2>"$work/tollgate.err" &
TG_PID=$!
PIDS+=("$TG_PID")
for _ in $(seq 300); do
  curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/readyz" && break
  sleep 0.1
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$TG_PORT/v1/orgs/acme/x")
[ "$code" = 200 ] || { echo "jwt-compare: the JWT route answered $code" >&2; exit 1; }

declare -A PATHS=([open]="/open/item?id=42" [jwt]="/v1/orgs/acme/item?id=42")
cpu_ticks() { local s; s=$(cat "/proc/$TG_PID/stat"); s=${s##*) }; echo "$s" | awk '{ print $12 + $13 }'; }
run_wrk() { # $1 route, $2 seconds -> "rps cpu_us_per_request"
  local t0 t1 rps
  t0=$(cpu_ticks)
  # Both routes get the same request bytes (the open route forwards the Authorization header untouched), so the
  # difference is the identity filter's work alone.
  rps=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${2}s" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$TG_PORT${PATHS[$1]}" \
    | awk '/Requests\/sec/ { print $2 }')
  t1=$(cpu_ticks)
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
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
o_rps=$(echo "${RPS[open]}" | median); j_rps=$(echo "${RPS[jwt]}" | median)
o_cpu=$(echo "${CPU[open]}" | median); j_cpu=$(echo "${CPU[jwt]}" | median)
log ""
log "| route | req/s (median of $ROUNDS) | Tollgate CPU per request |"
log "|---|---|---|"
log "| proxy, no auth | $o_rps | $o_cpu us |"
log "| proxy + JWT (ES256, cached), org + role check, 3 identity headers | $j_rps | $j_cpu us |"
log "| ratio JWT / no auth | $(awk -v a="$j_rps" -v b="$o_rps" 'BEGIN { printf "%.3f", a / b }') | $(awk -v a="$j_cpu" -v b="$o_cpu" 'BEGIN { printf "%.3f", a / b }') |"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg); results in $out"
