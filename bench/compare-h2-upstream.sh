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
repo="$(cd "$here/.." && pwd)"
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
JAVA_OPTS=${TOLLGATE_JAVA_OPTS:--Xms256m -Xmx256m -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled}
jar=${TOLLGATE_JAR:-$repo/gateway/target/tollgate.jar}
UP_PORT=$BASE_PORT
NGX_PORT=$((BASE_PORT + 1))
TG_PORT=$((BASE_PORT + 2))
ADMIN_PORT=$((BASE_PORT + 3))

for tool in h2load nginx taskset curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "compare-h2-upstream: $tool is missing (apt-get install -y nghttp2-client nginx curl)" >&2; exit 2; }
done
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
[ -f "$jar" ] || (cd "$repo" && mvn -B -q -o -DskipTests -pl gateway -am package) >&2
for p in $UP_PORT $NGX_PORT $TG_PORT $ADMIN_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "compare-h2-upstream: port $p is in use; set BASE_PORT" >&2; exit 2; fi
done
if [ "$NICE" != 0 ]; then renice -n "$NICE" -p $$ >/dev/null; fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$here/results"
out="$here/results/compare-h2-upstream-$stamp.txt"
work=$(mktemp -d "/tmp/tollgate-compare-h2-upstream-$stamp.XXXXXX")
mkdir -p "$work/tmp"
: >"$out"
log() { echo "$@" | tee -a "$out"; }
CLK_TCK=$(getconf CLK_TCK)

PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BODY=$(printf 'x%.0s' $(seq 128))
nginx_conf() { # $1 name, then the server blocks on stdin
  cat <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $work/$1.pid;
error_log $work/$1-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/tmp/$1-body;
  proxy_temp_path $work/tmp/$1-proxy;
  fastcgi_temp_path $work/tmp/$1-fastcgi;
  uwsgi_temp_path $work/tmp/$1-uwsgi;
  scgi_temp_path $work/tmp/$1-scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  http2_max_requests 1000000;
  http2_max_concurrent_streams 256;
EOF
  cat
  echo "}"
}
nginx_conf origin >"$work/origin.conf" <<EOF
  server { listen 127.0.0.1:$UP_PORT http2 backlog=4096; location / { default_type text/plain; return 200 "$BODY"; } }
EOF
nginx_conf proxy >"$work/proxy.conf" <<EOF
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

taskset -c "$LOAD_CPU" "$NGINX_BIN" -p "$work" -c "$work/origin.conf" >"$work/origin.out" 2>&1 &
UP_PID=$!; PIDS+=("$UP_PID")
taskset -c "$PROXY_CPU" "$NGINX_BIN" -p "$work" -c "$work/proxy.conf" >"$work/proxy.out" 2>&1 &
NGX_PID=$!; PIDS+=("$NGX_PID")
# shellcheck disable=SC2086
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$jar" run -c "$work/tollgate.conf" >"$work/tollgate.out" 2>"$work/tollgate.err" &
TG_PID=$!; PIDS+=("$TG_PID")
for port in $NGX_PORT $TG_PORT; do
  for _ in $(seq 300); do curl -fs --http2-prior-knowledge -o /dev/null --max-time 1 "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

declare -A PORT=([nginx]=$NGX_PORT [tollgate]=$TG_PORT)
cpu_ticks() { # proxy process (and nginx's worker) utime+stime
  local pids total=0 p s
  if [ "$1" = nginx ]; then pids="$NGX_PID $(pgrep -P "$NGX_PID" | tr '\n' ' ')"; else pids=$TG_PID; fi
  for p in $pids; do s=$(cat "/proc/$p/stat" 2>/dev/null) || continue; s=${s##*) }; total=$((total + $(echo "$s" | awk '{print $12 + $13}'))); done
  echo $total
}
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
  [ "${failed:-0}" = 0 ] || log "  $1: $failed requests failed"
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

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
field() { echo "$1" | awk -v f="$2" '{ for (i = f; i <= NF; i += 2) printf "%s ", $i }'; }
nr=$(field "${RESULTS[nginx]}" 1 | median); tr_=$(field "${RESULTS[tollgate]}" 1 | median)
nc=$(field "${RESULTS[nginx]}" 2 | median); tc=$(field "${RESULTS[tollgate]}" 2 | median)
log ""
log "| h2 -> h2 upstream | nginx req/s | Tollgate req/s | ratio | nginx CPU us | Tollgate CPU us | CPU ratio |"
log "|---|---|---|---|---|---|---|"
log "$(awk -v nr="$nr" -v tr="$tr_" -v nc="$nc" -v tc="$tc" 'BEGIN {
  printf "| medians | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx |", nr, tr, (nr > 0 ? tr / nr : 0), nc, tc, (nc > 0 ? tc / nc : 0) }')"
log ""
log "results: $out"
