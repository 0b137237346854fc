#!/usr/bin/env bash
# Tollgate vs nginx as a reverse proxy: same machine, same upstream, same run, interleaved rounds.
#
#   bench/compare.sh                      # 5 rounds of 10 s
#   ROUNDS=3 DURATION=10 bench/compare.sh
#
# Environment (defaults in brackets):
#   ROUNDS [5]            interleaved rounds; each round runs every target once (order rotates per round)
#   DURATION [10]         seconds per measured wrk run and per h2load run
#   WARMUP [15]           seconds of wrk load on Tollgate before anything is measured (JIT), split into 5
#                         runs so the connection open/close paths are compiled too; nginx gets 3 s
#   CONNS [64]            connections for wrk and for h2load
#   RATE_FRACTIONS [0.25 0.5 0.75]   fixed-rate points, as fractions of the nginx proxy's median wrk peak
#   PROXY_CPU [1] LOAD_CPU [0]       cores for the proxies / for wrk, h2load and the upstream nginx
#   QUIET_MAX [20]        a run is "quiet" when other processes used at most this % of a core during it; the summary
#                         is printed for all runs and again for quiet runs only (other people's builds share the box)
#   NICE [0]              nice value for this script and all it starts (negative needs root): on a box shared with
#                         other people's builds, -10 makes their processes yield the cores to the benchmark instead
#                         of time-sharing them; it changes nothing else, and applies to both proxies alike
#   BASE_PORT [28080]     ports BASE..BASE+3: upstream, nginx proxy, Tollgate, Tollgate admin (loopback only)
#   TOLLGATE_JAVA_OPTS    JVM options [the production ones from ./tollgate]
#
# Targets: "upstream" (nginx upstream directly: the ceiling of the load side), "nginx" (nginx as reverse proxy),
# "tollgate" (tollgate proxy). Each proxy runs on PROXY_CPU alone; wrk/h2load and the upstream nginx share LOAD_CPU.
#
# Pinning (2 cores here): the proxy under test gets a whole core to itself (nginx: master and its one worker; Tollgate:
# the whole JVM process, so its GC and JIT threads compete with the event loop just as they would in a 1-CPU
# container). The load generator and the upstream share the other core; that caps the closed-loop figure for both
# proxies alike (see the "upstream" row for the ceiling), which is why CPU time per request, measured on the proxy's
# own process, is the sharper comparison. Note: a JVM pinned to one core sees 1 CPU, so its ergonomics pick
# SerialGC unless the options name a collector; the report prints which collector ran.
#
# Output: per-round tables and a summary on stdout and in bench/results/compare-<timestamp>.txt, ending with a
# markdown table for the README. Everything started here is stopped on exit (TERM, then KILL after 5 s).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, JAVA_OPTS (TOLLGATE_JAVA_OPTS), BODY, CLK_TCK and the functions shared by the scripts

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-15}
CONNS=${CONNS:-64}
RATE_FRACTIONS=${RATE_FRACTIONS:-"0.25 0.5 0.75"}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-28080}
QUIET_MAX=${QUIET_MAX:-20}
NICE=${NICE:-0}

UP_PORT=$BASE_PORT
NGX_PORT=$((BASE_PORT + 1))
TG_PORT=$((BASE_PORT + 2))
ADMIN_PORT=$((BASE_PORT + 3))
TARGETS=(upstream nginx tollgate)
declare -A PORT=([upstream]=$UP_PORT [nginx]=$NGX_PORT [tollgate]=$TG_PORT)

# ---------------------------------------------------------------------------------------------------------------
# Prerequisites

install_missing wrk:wrk h2load:nghttp2-client taskset:util-linux curl:curl nginx:nginx
NGINX_BIN=$(nginx_bin)
jar="$repo/gateway/target/tollgate.jar"
if [ ! -f "$jar" ]; then
  echo "compare: building $jar" >&2
  mvn_package gateway offline online >&2
fi
ncpu=$(nproc)
if [ "$PROXY_CPU" -ge "$ncpu" ] || [ "$LOAD_CPU" -ge "$ncpu" ]; then
  echo "compare: need cores $LOAD_CPU and $PROXY_CPU, have $ncpu" >&2
  exit 2
fi
require_free_ports "$UP_PORT" "$NGX_PORT" "$TG_PORT" "$ADMIN_PORT"

apply_nice # inherited by everything started below
open_results # $stamp, $out (bench/results/compare-<stamp>.txt) for log(), scratch folder $work

# ---------------------------------------------------------------------------------------------------------------
# Processes: every pid we start goes into PIDS (lib.sh); the trap stops them all, bounded in time.

after_stop() { echo "compare: stopped ${#PIDS[@]} process(es); scratch files in $work" >&2; }
stop_on_exit poll

# nginx_conf and nginx_upstream_conf (lib.sh) write the common part, long-lived keep-alive on every hop included.
nginx_upstream_conf "$UP_PORT" >"$work/upstream.conf"
nginx_conf nginx-proxy >"$work/nginx-proxy.conf" <<EOF
  upstream backend {
    server 127.0.0.1:$UP_PORT;
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:$NGX_PORT backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
EOF

wait_http() { # $1 = port, $2 = name, $3 = pid
  for _ in $(seq 300); do
    if curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$1/" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "compare: $2 exited during start-up" >&2; return 1; fi
    sleep 0.1
  done
  echo "compare: $2 did not answer on port $1 within 30 s" >&2
  return 1
}

start_nginx "$LOAD_CPU" upstream -e "$work/upstream-error.log"
UP_PID=$!
start_nginx "$PROXY_CPU" nginx-proxy -e "$work/nginx-proxy-error.log"
NGX_PID=$!
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
taskset -c "$PROXY_CPU" java $JAVA_OPTS -jar "$jar" proxy --listen "127.0.0.1:$TG_PORT" \
  --to "http://127.0.0.1:$UP_PORT" --event-loops 1 --access-log off --admin "127.0.0.1:$ADMIN_PORT" \
  >"$work/tollgate.out" 2>"$work/tollgate.err" &
TG_PID=$!; PIDS+=("$TG_PID")

wait_http "$UP_PORT" "upstream nginx" "$UP_PID"
wait_http "$NGX_PORT" "nginx proxy" "$NGX_PID"
wait_http "$TG_PORT" "tollgate" "$TG_PID" || { tail -50 "$work/tollgate.err" >&2; exit 1; }

# CPU time charged to a target: cpu_ticks (lib.sh): nginx master + its worker(s); the JVM (all its threads).
# Ticks the load generator used: it runs as a child of this shell, so its time lands in our cutime+cstime once reaped.
loadgen_ticks() { local s; s=$(cat "/proc/$$/stat"); s=${s##*) }; echo "$s" | awk '{ print $14 + $15 }'; }
# "target upstream loadgen" tick counters for one run; also snapshots other load (foreign_ticks_file, lib.sh) into
# $work/foreign-<$2>, which other_pct compares.
snap() { foreign_ticks_file "$work/foreign-$2"; echo "$(cpu_ticks "$1") $(cpu_ticks upstream) $(loadgen_ticks)"; }
# Tollgate's collector counters from its perf-data file (jstat reads it without attaching; pinned off the proxy
# core, and sampled outside the measured window): "young_gcs gc_seconds eden_capacity_kib eden_used_kib".
gc_snap() {
  taskset -c "$LOAD_CPU" jstat -gc "$TG_PID" 2>/dev/null | awk 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
    NR == 2 { print $c["YGC"] + $c["FGC"], $c["GCT"], $c["EC"], $c["EU"] }' || true
}
# "gcs pause_ms bytes_per_request" between two gc_snap lines: bytes allocated ~ eden filled per young GC + eden growth.
gc_delta() { # $1 before, $2 after, $3 requests
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (split(a, x) < 4 || split(b, y) < 4 || n == 0) { print "- - -"; exit }
    g = y[1] - x[1]; printf "%d %.1f %.0f", g, (y[2] - x[2]) * 1000, (g * x[3] + y[4] - x[4]) * 1024 / n }'
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

log "# Tollgate vs nginx reverse proxy, $stamp"
log "host: $(uname -srm), $ncpu cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
log "nginx: $("$NGINX_BIN" -v 2>&1 | sed 's/.*version: //'); wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}');" \
  "h2load: $(h2load --version | awk '{print $2}'); java: $(java -version 2>&1 | head -1)"
log "JVM options: $JAVA_OPTS"
log "tollgate GC: $(jcmd "$TG_PID" VM.flags 2>/dev/null | tr ' ' '\n' | grep -E '^-XX:\+Use[A-Za-z]*GC$' | head -1 || echo '?')"
log "rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s conns=$CONNS proxy core=$PROXY_CPU load+upstream core=$LOAD_CPU nice=$NICE"
log "body: 128 bytes; keep-alive everywhere; loopback only"
log ""

# ---------------------------------------------------------------------------------------------------------------
# Closed loop: wrk, 1 thread, CONNS connections. p50/p99/p99.9 from wrk's own histogram (Lua done()).

cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("STATS requests=%d duration_us=%d p50=%d p99=%d p999=%d max=%d errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
EOF

run_wrk() { # $1 = target, $2 = seconds, $3 = file for the raw output
  timeout $(($2 + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${2}s" --latency -s "$work/report.lua" \
    "http://127.0.0.1:${PORT[$1]}/" >"$3" 2>&1 || echo "wrk exited with $?" >>"$3"
}
field() { sed -n "s/.*[ ]$2=\([-0-9.]*\).*/\1/p" "$1" | head -1; } # $1 = file, $2 = key in the STATS line

log "## Warm-up: tollgate ${WARMUP}s, nginx 3s, upstream 3s (not measured)"
# Several short runs rather than one long one: each wrk run opens and closes 64 connections, and on a JVM pinned
# to one core the JIT compiling those paths during the first measured run shows in its tail (PrintCompilation).
for warm in 1 2 3 4 5; do
  run_wrk tollgate $(( (WARMUP + 4) / 5 )) "$work/warmup-tollgate.txt"
done
run_wrk nginx 3 "$work/warmup-nginx.txt"
run_wrk upstream 3 "$work/warmup-upstream.txt"
log "tollgate warm-up: $(grep -E 'Requests/sec|Non-2xx|Socket errors' "$work/warmup-tollgate.txt" | tr '\n' ' ')"
log ""

# Per target, one line per round: rps p50 p99 p999 cpu_us_per_req non2xx sockerr
declare -A WRK
GC=""
anomalies=()
for ((r = 1; r <= ROUNDS; r++)); do
  log "## Round $r/$ROUNDS (wrk -t1 -c$CONNS -d${DURATION}s)"
  log "$(printf '%-9s %10s %8s %8s %8s %10s %9s %8s %7s' target req/s p50_us p99_us p99.9_us cpu_us/req non2xx sockerr noise%)"
  for ((i = 0; i < ${#TARGETS[@]}; i++)); do
    t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]} # rotate the order each round
    f="$work/wrk-r$r-$t.txt"
    [ "$t" = tollgate ] && g0=$(gc_snap)
    s0=$(snap "$t" before)
    run_wrk "$t" "$DURATION" "$f"
    s1=$(snap "$t" after)
    [ "$t" = tollgate ] && g1=$(gc_snap)
    c0=${s0%% *}; c1=${s1%% *}
    noise=$(other_pct "$DURATION")
    req=$(field "$f" requests); dur=$(field "$f" duration_us)
    if [ -z "$req" ] || [ "$req" = 0 ]; then
      anomalies+=("round $r $t: wrk produced no requests: $(tr '\n' ' ' <"$f")")
      req=0; dur=1
    fi
    [ "$t" = tollgate ] && tg_req=$req
    rps=$(awk -v n="$req" -v d="$dur" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
    cpu=$(awk -v c=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$req" 'BEGIN { printf "%.2f", n ? c * 1e6 / hz / n : 0 }')
    non2xx=$(field "$f" errors_status)
    sock=$(( $(field "$f" errors_connect || echo 0) + $(field "$f" errors_read || echo 0) + $(field "$f" errors_write || echo 0) + $(field "$f" errors_timeout || echo 0) ))
    [ "${non2xx:-0}" != 0 ] || [ "$sock" != 0 ] && anomalies+=("round $r $t: non-2xx=$non2xx socket errors=$sock (raw: $f)")
    WRK[$t]+="$rps $(field "$f" p50) $(field "$f" p99) $(field "$f" p999) $cpu ${non2xx:-0} $sock $noise"$'\n'
    log "$(printf '%-9s %10s %8s %8s %8s %10s %9s %8s %7s' "$t" "$rps" "$(field "$f" p50)" "$(field "$f" p99)" \
      "$(field "$f" p999)" "$cpu" "${non2xx:-?}" "$sock" "$noise")"
  done
  if kill -0 "$TG_PID" 2>/dev/null; then
    read -r gcs gcms bpr <<<"$(gc_delta "$g0" "$g1" "$tg_req")"
    GC+="$gcs $gcms $bpr"$'\n'
    log "tollgate during its wrk run: $gcs collections, $gcms ms in GC, ~$bpr B allocated per request;" \
      "RSS after round $r: $(( $(rss_kib "$TG_PID") / 1024 )) MiB"
  else
    anomalies+=("tollgate exited during round $r (stderr: $work/tollgate.err)")
    log "tollgate is not running any more"
  fi
  log ""
done

# median and min-max of column $1 of the lines on stdin
stat_col() { awk -v c="$1" '$c != "" && $c != "-" { print $c }' | sort -g | awk '{ v[NR] = $1 }
  END { n = NR; if (n == 0) { printf "- - -"; exit } m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
  printf "%s %s %s", m, v[1], v[n] }'; }
# Rows of a target whose "other load" column is at most MAX_OTHER (all rows when MAX_OTHER is empty).
MAX_OTHER=""
rows() { printf '%s' "$1" | awk -v c="$2" -v m="$MAX_OTHER" 'm == "" || $c <= m + 0'; }
med() { rows "${WRK[$1]}" 8 | stat_col "$2" | awk '{ print $1 }'; }
spread() { rows "${WRK[$1]}" 8 | stat_col "$2" | awk '{ printf "%s-%s", $2, $3 }'; }
count() { rows "${WRK[$1]}" 8 | wc -l; }

# ---------------------------------------------------------------------------------------------------------------
# Fixed rate: h2load --h1 --rps, clients started 1 ms apart.
#
# h2load's -r/--rate is a *connection* rate (new connections per --rate-period, at most -c of them), and each new
# connection then runs closed-loop like wrk: it is not a request rate on its own. h2load 1.52 also has --rps=N: each
# client (connection) sends N requests per second from its own timer; a request that falls due while the previous
# one on that connection is still in flight waits for it (HTTP/1.1, no pipelining). Total offered rate = CONNS x N.
# Two traps, both measured here:
# - All clients connect at once, so their timers tick in phase and every tick sends a burst of CONNS requests: the
#   last of each burst waits for the others. That put p50 at ~0.8-1.6 ms even for the bare upstream at 25% load
#   (vs ~100 us once spread). So clients are started 1 ms apart (-r 1 --rate-period 1ms; -r rules out -D, so the run
#   length is set with -n), which spreads their phases over the per-client interval (>= 1.5 ms at these rates).
# - It is open-loop only while each connection is mostly idle (per-connection interval >> latency, true here), and
#   h2load does not correct for coordinated omission: a stall longer than the interval delays later requests, whose
#   latency is then measured from their late send, not from when they were due (wrk2 corrects this, h2load does
#   not). The achieved rate is reported next to the offered one; a shortfall means the point was not open-loop.
# The first second (connection ramp) is dropped; percentiles come from h2load's per-request --log-file (start time,
# status, microseconds to the end of the response), not from its mean/sd summary.

# The fixed rates derive from nginx's peak: the best of its closed-loop runs, as other load only ever lowers it.
nginx_peak=$(printf '%s' "${WRK[nginx]}" | stat_col 1 | awk '{ print $3 }')
h2_stats() { # $1 = log file -> "n p50 p99 p999 max non2xx seconds" over requests started >= 1 s after the first
  local bad t0 secs
  t0=$(sort -n "$1" 2>/dev/null | awk -F'\t' 'NR == 1 { printf "%.0f", $1 + 1e6 }')
  [ -n "$t0" ] || t0=0
  secs=$(awk -F'\t' -v t0="$t0" '$1 >= t0 && $1 > m { m = $1 } END { printf "%.3f", (m - t0) / 1e6 }' "$1" 2>/dev/null || echo 0)
  bad=$(awk -F'\t' -v t0="$t0" '$1 >= t0 && ($2 < 200 || $2 > 299) { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0)
  { awk -F'\t' -v t0="$t0" '$1 >= t0 { print $3 }' "$1" 2>/dev/null || true; } | sort -n | awk -v bad="$bad" -v secs="$secs" '
    function rank(q,  i) { i = q * NR; return i == int(i) ? i : int(i) + 1 } # nearest rank
    { v[NR] = $1 } END { if (NR == 0) { print "0 - - - - " bad, 1; exit }
      i50 = rank(0.50); i99 = rank(0.99); i999 = rank(0.999)
      print NR, v[i50], v[i99], v[i999], v[NR], bad, secs }'
}
declare -A H2
rates=()
for frac in $RATE_FRACTIONS; do
  per_conn=$(awk -v p="$nginx_peak" -v f="$frac" -v c="$CONNS" 'BEGIN { x = int(p * f / c + 0.5); print x < 1 ? 1 : x }')
  rates+=("$frac:$per_conn")
done
for ((r = 1; r <= ROUNDS; r++)); do
  log "## Fixed-rate round $r/$ROUNDS (h2load --h1 -t1 -c$CONNS -r 1 --rate-period 1ms --rps N, $((DURATION + 1))s, first 1s dropped)"
  log "$(printf '%-9s %6s %9s %9s %8s %8s %8s %8s %8s %7s' target frac offered achieved p50_us p99_us p99.9_us max_us non2xx noise%)"
  for rf in "${rates[@]}"; do
    frac=${rf%%:*}; per_conn=${rf##*:}; offered=$((per_conn * CONNS))
    for ((i = 0; i < ${#TARGETS[@]}; i++)); do
      t=${TARGETS[$(((i + r - 1) % ${#TARGETS[@]}))]}
      f="$work/h2-r$r-$t-$frac"
      s0=$(snap "$t" before)
      timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" h2load --h1 -t1 -c"$CONNS" -r 1 --rate-period 1ms \
        --rps="$per_conn" -n $((offered * (DURATION + 1))) --log-file="$f.log" "http://127.0.0.1:${PORT[$t]}/" \
        >"$f.txt" 2>&1 \
        || echo "h2load exited with $?" >>"$f.txt"
      s1=$(snap "$t" after)
      noise=$(other_pct $((DURATION + 1)))
      read -r n p50 p99 p999 max bad secs <<<"$(h2_stats "$f.log")"
      achieved=$(awk -v n="$n" -v d="$secs" 'BEGIN { printf "%.0f", (d > 0 ? n / d : 0) }')
      [ "${bad:-0}" != 0 ] && anomalies+=("fixed rate round $r $t @$frac: $bad non-2xx/failed (raw: $f.txt)")
      awk -v a="$achieved" -v o="$offered" 'BEGIN { exit !(a < 0.97 * o) }' \
        && anomalies+=("fixed rate round $r $t @$frac: achieved $achieved of $offered req/s offered")
      H2[$t@$frac]+="$achieved $p50 $p99 $p999 $max ${bad:-0} $noise"$'\n'
      log "$(printf '%-9s %6s %9s %9s %8s %8s %8s %8s %8s %7s' "$t" "$frac" "$offered" "$achieved" "$p50" "$p99" \
        "$p999" "$max" "$bad" "$noise")"
    done
  done
  log ""
done

# ---------------------------------------------------------------------------------------------------------------
# Summary

tg_rss=$(( $(rss_kib "$TG_PID" 2>/dev/null || echo 0) / 1024 ))
tg_hwm=$(( $(hwm_kib "$TG_PID" 2>/dev/null || echo 0) / 1024 ))
ngx_rss=0
for p in $(cpu_pids nginx); do ngx_rss=$((ngx_rss + $(rss_kib "$p"))); done
ngx_rss=$((ngx_rss / 1024))

h2med() { rows "${H2[$1]}" 7 | stat_col "$2" | awk '{ print $1 }'; }
h2spread() { rows "${H2[$1]}" 7 | stat_col "$2" | awk '{ printf "%s-%s", $2, $3 }'; }
h2count() { rows "${H2[$1]}" 7 | wc -l; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo MET; else echo "NOT MET"; fi; }

summarize() { # $1 = max other load ("" = all runs), $2 = title
  MAX_OTHER=$1
  log "## Summary, $2: median (min-max)"
  log ""
  log "Closed loop (wrk -t1 -c$CONNS, ${DURATION}s; latency in µs; CPU = utime+stime of the proxy's processes / requests)"
  log ""
  log "| target | runs | req/s | p50 µs | p99 µs | p99.9 µs | CPU µs/req | other load, % of a core |"
  log "|---|---|---|---|---|---|---|---|"
  local t cpu rf frac per_conn k
  for t in "${TARGETS[@]}"; do
    cpu="$(med "$t" 5) ($(spread "$t" 5))"
    [ "$t" = upstream ] && cpu="$cpu (the upstream itself)"
    log "| $t | $(count "$t") | $(med "$t" 1) ($(spread "$t" 1)) | $(med "$t" 2) ($(spread "$t" 2)) | $(med "$t" 3) ($(spread "$t" 3)) | $(med "$t" 4) ($(spread "$t" 4)) | $cpu | $(med "$t" 8) ($(spread "$t" 8)) |"
  done
  log ""
  log "Fixed rate (h2load --h1 --rps, $CONNS connections; rates are fractions of nginx proxy's best run, $nginx_peak req/s)"
  log ""
  log "| target | runs | offered req/s | achieved req/s | p50 µs | p99 µs | p99.9 µs | max µs | other load, % of a core |"
  log "|---|---|---|---|---|---|---|---|---|"
  for rf in "${rates[@]}"; do
    frac=${rf%%:*}; per_conn=${rf##*:}
    for t in "${TARGETS[@]}"; do
      k="$t@$frac"
      log "| $t | $(h2count "$k") | $((per_conn * CONNS)) ($frac) | $(h2med "$k" 1) | $(h2med "$k" 2) ($(h2spread "$k" 2)) | $(h2med "$k" 3) ($(h2spread "$k" 3)) | $(h2med "$k" 4) ($(h2spread "$k" 4)) | $(h2med "$k" 5) | $(h2med "$k" 7) ($(h2spread "$k" 7)) |"
    done
  done
  log ""
  local tput_ratio ratio_spread cpu_ratio p99_tg p99_ngx p99_delta
  tput_ratio=$(awk -v a="$(med tollgate 1)" -v b="$(med nginx 1)" 'BEGIN { printf "%.2f", b + 0 ? a / b : 0 }')
  # per-round ratios (rounds where both runs pass the filter), so that the spread of the ratio shows too
  ratio_spread=$(paste <(printf '%s' "${WRK[tollgate]}") <(printf '%s' "${WRK[nginx]}") \
    | awk -v m="$MAX_OTHER" '(m == "" || ($8 <= m + 0 && $16 <= m + 0)) && $9 { r = $1 / $9; n++
        if (n == 1 || r < lo) lo = r; if (n == 1 || r > hi) hi = r } END { if (n) printf "%.2f-%.2f", lo, hi; else print "-" }')
  cpu_ratio=$(awk -v a="$(med tollgate 5)" -v b="$(med nginx 5)" 'BEGIN { printf "%.2f", b + 0 ? a / b : 0 }')
  p99_tg=$(h2med "tollgate@0.5" 3); p99_ngx=$(h2med "nginx@0.5" 3)
  log "Tollgate/nginx throughput (closed loop): $tput_ratio (per-round $ratio_spread)"
  log "Tollgate/nginx CPU per request: $cpu_ratio ($(med tollgate 5) vs $(med nginx 5) µs)"
  log ""
  log "| goal ($2) | measured | verdict |"
  log "|---|---|---|"
  log "| Tollgate throughput >= nginx proxy | ${tput_ratio}x (rounds ${ratio_spread}) | $(verdict "$tput_ratio >= 1.0") |"
  log "| Tollgate CPU/request <= 0.8x nginx | ${cpu_ratio}x | $(verdict "$cpu_ratio <= 0.8") |"
  if [ -n "$p99_tg" ] && [ -n "$p99_ngx" ] && [ "$p99_tg" != "-" ] && [ "$p99_ngx" != "-" ]; then
    p99_delta=$(awk -v a="$p99_tg" -v b="$p99_ngx" 'BEGIN { printf "%d", a - b }')
    log "| Tollgate p99 at half of peak within 100 µs of nginx | $p99_tg vs $p99_ngx µs (Δ ${p99_delta} µs) | $(verdict "$p99_delta <= 100") |"
  else
    log "| Tollgate p99 at half of peak within 100 µs of nginx | no (quiet) 0.5 point | - |"
  fi
  log ""
  MAX_OTHER=""
}

summarize "" "all $ROUNDS rounds"
summarize "$QUIET_MAX" "quiet runs only (other load <= $QUIET_MAX% of a core)"
log "other load = CPU (utime+stime) of user-space processes other than the proxies, the upstream and the load generator"
log "during the run (other people's builds), in % of one core. Runs counts the runs in each median."
log ""
log "Tollgate GC per ${DURATION}s wrk run (median of rounds): $(printf '%s' "$GC" | stat_col 1 | awk '{print $1}') collections," \
  "$(printf '%s' "$GC" | stat_col 2 | awk '{print $1}') ms paused, ~$(printf '%s' "$GC" | stat_col 3 | awk '{print $1}') B allocated per request" \
  "($(jcmd "$TG_PID" VM.flags 2>/dev/null | tr ' ' '\n' | grep -E '^-XX:\+Use[A-Za-z]*GC$' | head -1 || echo '?'))"
log "Tollgate RSS: ${tg_rss} MiB now, ${tg_hwm} MiB peak (nginx proxy master+worker: ${ngx_rss} MiB)"
log ""
if [ ${#anomalies[@]} -gt 0 ]; then
  log "## Anomalies"
  for a in "${anomalies[@]}"; do log "- $a"; done
else
  log "No anomalies: every response 2xx, no socket errors, every fixed rate achieved."
fi
if [ -s "$work/tollgate.err" ]; then
  log ""
  log "tollgate stderr (last 20 lines):"
  tail -20 "$work/tollgate.err" | tee -a "$out"
fi
log ""
log "raw wrk/h2load outputs: $work"
echo "results: $out" >&2
