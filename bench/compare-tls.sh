#!/usr/bin/env bash
# Tollgate vs nginx terminating TLS: HTTPS keep-alive, HTTP/2, full and resumed handshakes; same machine, same
# certificate and cipher suites, same upstream, interleaved rounds.
#
#   bench/compare-tls.sh                      # 3 rounds of 10 s per measurement
#   ROUNDS=5 DURATION=10 NICE=-10 bench/compare-tls.sh
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [10]  CONNS [64] (wrk)  H2_CLIENTS [16] H2_STREAMS [16] (h2load -c/-m)
#   HANDSHAKE_CLIENTS [2]     parallel openssl s_time processes per handshake measurement
#   PROXY_CPU [1] LOAD_CPU [0]  NICE [0]  BASE_PORT [29080]  TOLLGATE_JAVA_OPTS [as ./tollgate]
#   ONLY [https h2 full-hs resumed-hs]  the measurements to run, e.g. ONLY=h2
#   WARMUP [15]  seconds of each selected load on Tollgate before measuring (JIT); nginx gets 5
#   UPSTREAM_KEEPALIVE [64]  idle upstream connections each proxy keeps (nginx keepalive, Tollgate max-idle-per-loop);
#                   below the h2 concurrency (H2_CLIENTS x H2_STREAMS) both proxies open and close upstream connections
#   QUIET_MAX [20]  a run is "quiet" when other processes used at most this % of a core during it; the table is
#                   printed for all runs and again for quiet runs only (other people's builds share the box)
#   TOLLGATE_JAR [gateway/target/tollgate.jar]  the build to measure (A/B: alternate runs with two saved jars)
#
# Measurements, for each proxy (nginx 'listen ssl http2', Tollgate with a TLS listener; both pinned alone to
# PROXY_CPU, the load and the upstream nginx on LOAD_CPU):
#   https      wrk, CONNS keep-alive connections, HTTP/1.1 over TLS 1.3: requests/s and proxy CPU us/request
#   h2         h2load, H2_CLIENTS connections x H2_STREAMS concurrent streams: requests/s and CPU us/request
#   full-hs    openssl s_time -new (TLS 1.3, ECDHE P-256 + ECDSA P-256 certificate): handshakes/s
#   resumed-hs openssl s_time -reuse (TLS 1.2 session tickets: s_time resumes 1.2 sessions reliably): handshakes/s
# The certificate is the test suite's (gateway/src/test/resources/tls/server.pem, EC P-256).
# Output: stdout and bench/results/compare-tls-<timestamp>.txt, ending with a markdown table (medians, ratios).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY, CLK_TCK and the functions shared by the scripts
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
H2_CLIENTS=${H2_CLIENTS:-16}
H2_STREAMS=${H2_STREAMS:-16}
HANDSHAKE_CLIENTS=${HANDSHAKE_CLIENTS:-2}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
NICE=${NICE:-0}
BASE_PORT=${BASE_PORT:-29080}
WARMUP=${WARMUP:-15}
QUIET_MAX=${QUIET_MAX:-20}
UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-64}
read -r -a KINDS <<<"${ONLY:-https h2 full-hs resumed-hs}"
for kind in "${KINDS[@]}"; do
  case $kind in https|h2|full-hs|resumed-hs) ;; *) echo "compare-tls: unknown measurement '$kind' in ONLY" >&2; exit 2 ;; esac
done
UP_PORT=$BASE_PORT
NGX_PORT=$((BASE_PORT + 1))
TG_PORT=$((BASE_PORT + 2))
ADMIN_PORT=$((BASE_PORT + 3))
CERT="$repo/gateway/src/test/resources/tls/server.pem"
KEY="$repo/gateway/src/test/resources/tls/server-key.pem"
CA="$repo/gateway/src/test/resources/tls/ca.pem"
# Tollgate's default list (reference.conf), in OpenSSL names for nginx's TLS 1.2 suites.
NGX_CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

require_tools "apt-get install -y wrk nghttp2-client nginx openssl" wrk h2load openssl nginx taskset curl
NGINX_BIN=$(nginx_bin)
jar=${TOLLGATE_JAR:-"$repo/gateway/target/tollgate.jar"}
[ -f "$jar" ] || [ -n "${TOLLGATE_JAR:-}" ] || mvn_package gateway offline >&2
require_free_ports "$UP_PORT" "$NGX_PORT" "$TG_PORT" "$ADMIN_PORT"
apply_nice

open_results # $stamp, $out (bench/results/compare-tls-<stamp>.txt) for log(), scratch folder $work
stop_on_exit poll

nginx_upstream_conf "$UP_PORT" >"$work/upstream.conf"
nginx_conf nginx-tls >"$work/nginx-tls.conf" <<EOF
  http2_max_requests 1000000;
  upstream backend { server 127.0.0.1:$UP_PORT; keepalive $UPSTREAM_KEEPALIVE; keepalive_requests 1000000; keepalive_timeout 120s; }
  server {
    listen 127.0.0.1:$NGX_PORT ssl http2 backlog=4096;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $NGX_CIPHERS;
    ssl_session_tickets on;
    ssl_session_cache off;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
EOF
cat >"$work/tollgate.conf" <<EOF
tollgate {
  event-loops = 1
  listeners = [{ name = tls, address = "127.0.0.1", port = $TG_PORT, tls { cert-chain = "$CERT", private-key = "$KEY" } }]
  admin { address = "127.0.0.1", port = $ADMIN_PORT }
  access-log.enabled = false
  http2.max-concurrent-streams = 256
  upstreams { app { endpoints = ["127.0.0.1:$UP_PORT"], max-idle-per-loop = $UPSTREAM_KEEPALIVE } }
  routes = [{ name = all, upstream = app }]
}
EOF

start_nginx "$LOAD_CPU" upstream
UP_PID=$!
start_nginx "$PROXY_CPU" nginx-tls
NGX_PID=$!
# shellcheck disable=SC2086
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$jar" run -c "$work/tollgate.conf" >"$work/tollgate.out" 2>"$work/tollgate.err" &
TG_PID=$!; PIDS+=("$TG_PID")
for port in $NGX_PORT $TG_PORT; do
  wait_for 300 0.1 curl -fsk -o /dev/null --max-time 1 "https://127.0.0.1:$port/"
  # A proxy that never answered would be measured at 0/s: stop and say which, with its log.
  curl -fsk -o /dev/null --max-time 2 "https://127.0.0.1:$port/" || {
    echo "compare-tls: the proxy on port $port does not answer; see $work" >&2; exit 1; }
done

declare -A PORT=([nginx]=$NGX_PORT [tollgate]=$TG_PORT)
url() { echo "https://127.0.0.1:${PORT[$1]}/bench"; }
# CPU time of a proxy: cpu_ticks (lib.sh). Other load, as in compare.sh: foreign_ticks_file and other_pct (lib.sh)
# between two snapshots. The load generator starts and ends inside a run, so it is not counted.
measure() { # $1 target, $2 kind -> "rate cpu_us_per_unit"
  local t=$1 kind=$2 before after n rate
  before=$(cpu_ticks "$t")
  case $kind in
    https)
      n=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" "$(url "$t")" | awk '/^Requests\/sec/ {print $2}') ;;
    h2)
      n=$(taskset -c "$LOAD_CPU" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -D "$DURATION" "$(url "$t")" 2>/dev/null \
        | awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i+1) == "req/s,") print $i }') || true ;;
    full-hs|resumed-hs)
      local flag=-new proto=-tls1_3 i
      [ "$kind" = resumed-hs ] && { flag=-reuse; proto=-tls1_2; }
      for i in $(seq "$HANDSHAKE_CLIENTS"); do
        taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:${PORT[$t]}" $flag $proto -time "$DURATION" \
          -CAfile "$CA" >"$work/s_time-$i" 2>&1 &
      done
      wait
      n=$(cat "$work"/s_time-* | awk '/connections in [0-9.]+ real/ { c += $1; s = $4 } END { if (s > 0) printf "%.0f", c / s }') ;;
  esac
  after=$(cpu_ticks "$t")
  rate=${n:-0}
  awk -v r="$rate" -v d="$DURATION" -v ticks="$((after - before))" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.0f %.1f", r, (r > 0 ? ticks / hz * 1e6 / (r * d) : 0) }'
}

log "# Tollgate vs nginx terminating TLS, $stamp"
log "host: $(uname -srm), $(nproc) cores; nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*version: //'); $(openssl version | cut -d' ' -f1-2)"
log "rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s upstream keepalive=$UPSTREAM_KEEPALIVE wrk conns=$CONNS h2load ${H2_CLIENTS}x${H2_STREAMS} s_time x$HANDSHAKE_CLIENTS proxy core=$PROXY_CPU load core=$LOAD_CPU nice=$NICE"
log "tollgate: $jar $(grep -o 'tls-provider=[a-z]*' "$work/tollgate.err" | head -1)"
wants() { [[ " ${KINDS[*]} " == *" $1 "* ]]; }
# Warm-up of the selected measurements: JIT for Tollgate (C2 takes ~4 s of its core in the first ~10 s of h2 load,
# so a 5 s warm-up left it compiling into the first measured round), and
# both proxies' caches.
for t in tollgate nginx; do
  w=5; [ "$t" = tollgate ] && w=$WARMUP
  if wants https; then taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${w}s" "$(url "$t")" >/dev/null; fi
  if wants h2; then taskset -c "$LOAD_CPU" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -D "$w" "$(url "$t")" >/dev/null 2>&1; fi
  if wants full-hs || wants resumed-hs; then
    taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:${PORT[$t]}" -new -time 3 -CAfile "$CA" >/dev/null 2>&1
  fi
done

declare -A RESULTS QUIET
for r in $(seq "$ROUNDS"); do
  order=(nginx tollgate); [ $((r % 2)) = 0 ] && order=(tollgate nginx)
  for kind in "${KINDS[@]}"; do
    for t in "${order[@]}"; do
      foreign_ticks_file "$work/foreign-before"
      res=$(measure "$t" "$kind")
      foreign_ticks_file "$work/foreign-after"
      other=$(other_pct "$DURATION")
      RESULTS[$t,$kind]="${RESULTS[$t,$kind]:-} $res"
      if [ "$other" -le "$QUIET_MAX" ]; then QUIET[$t,$kind]="${QUIET[$t,$kind]:-} $res"; fi
      log "round $r  $kind  $t: $(echo "$res" | awk '{printf "%s/s, %s us CPU per unit", $1, $2}'), other load $other%"
    done
  done
done

runs() { echo "$1" | awk '{ print int(NF / 2) }'; }
table() { # $1 = name of the results array, $2 = title
  local -n res=$1
  log ""
  log "$2"
  log "| measurement | runs nginx / Tollgate | nginx /s | Tollgate /s | ratio | nginx CPU us | Tollgate CPU us | CPU ratio |"
  log "|---|---|---|---|---|---|---|---|"
  for kind in "${KINDS[@]}"; do
    nr=$(pair_field "${res[nginx,$kind]:-}" 1 | median); tr_=$(pair_field "${res[tollgate,$kind]:-}" 1 | median)
    nc=$(pair_field "${res[nginx,$kind]:-}" 2 | median); tc=$(pair_field "${res[tollgate,$kind]:-}" 2 | median)
    log "$(awk -v k="$kind" -v n="$(runs "${res[nginx,$kind]:-}") / $(runs "${res[tollgate,$kind]:-}")" -v nr="$nr" -v tr="$tr_" -v nc="$nc" -v tc="$tc" 'BEGIN {
      printf "| %s | %s | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2fx |", k, n, nr, tr, (nr > 0 ? tr / nr : 0), nc, tc, (nc > 0 ? tc / nc : 0) }')"
  done
}
table RESULTS "all runs (medians):"
table QUIET "quiet runs only (other load <= $QUIET_MAX% of a core; medians):"
log "other load = CPU (utime+stime) of user-space processes other than the proxies, the upstream and the load generator"
log "during the run (other people's builds), in % of one core."
log ""
log "results: $out"
