# shellcheck shell=bash
# What the load-test scripts in bench/ have in common: sourced, never run. A script sets `here` (its own folder),
# then sources this file:
#
#   here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
#   . "$here/lib.sh"
#
# Sourcing defines functions and the few constants below; it starts, checks and writes nothing, so each script
# keeps its own order of steps and calls what it needs. Functions that name variables they read (NICE, NGINX_BIN,
# UP_PORT, UP_PID, NGX_PID, TG_PID; work and out come from open_results or new_work) expect them set first.
# shellcheck disable=SC2154 # here, NICE, NGINX_BIN, UP_PORT and the *_PID variables are the sourcing script's

# The checkout the script belongs to: its jar, the TLS test certificates and the bench module are found from here.
repo="$(cd "$here/.." && pwd)"
# The script's name without .sh ("compare-tls"): the prefix of its messages and the name of its results file.
prog=$(basename "$0" .sh)
# The production JVM options of ./tollgate, unless TOLLGATE_JAVA_OPTS names others; one list for every script.
# shellcheck disable=SC2034 # this and BODY are read by the sourcing scripts
JAVA_OPTS=${TOLLGATE_JAVA_OPTS:--Xms256m -Xmx256m -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled}
# The upstream's response body: 128 bytes in every comparison.
# shellcheck disable=SC2034
BODY=$(printf 'x%.0s' $(seq 128))
# Kernel ticks per second: the unit of the utime and stime that cpu_ticks sums.
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------------------------
# Prerequisites

# has_tool TOOL: TOOL is on PATH or in /usr/sbin (where Debian's nginx lands, outside a non-root PATH).
has_tool() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }

# require_tools HINT TOOL...: ends the script (exit 2) at the first TOOL that is missing, with HINT (how to get it).
require_tools() {
  local hint=$1 tool
  shift
  for tool in "$@"; do
    has_tool "$tool" || { echo "$prog: $tool is missing ($hint)" >&2; exit 2; }
  done
}

# install_missing TOOL:PACKAGE...: apt-get installs the PACKAGE of each missing TOOL (after an apt-get update if the
# first try fails), for the scripts that set themselves up on a fresh box. Says what it installs on stderr.
install_missing() {
  local pair need=()
  for pair in "$@"; do has_tool "${pair%%:*}" || need+=("${pair#*:}"); done
  [ ${#need[@]} -gt 0 ] || return 0
  echo "$prog: installing ${need[*]}" >&2
  apt-get install -y "${need[@]}" >&2 || { apt-get update >&2 && apt-get install -y "${need[@]}" >&2; }
}

# nginx_bin: the nginx to run: the one on PATH, else Debian's /usr/sbin/nginx.
nginx_bin() { command -v nginx || echo /usr/sbin/nginx; }

# mvn_package MODULE MODE...: builds MODULE of $repo and the modules it needs (quiet, tests skipped), trying each
# MODE in turn until one succeeds: offline (-o: the local repository only) or online. Fails if every MODE failed.
# The scripts differ in what they try (offline only, offline then online, online only); each says so in its call.
mvn_package() {
  local module=$1 mode
  shift
  for mode in "$@"; do
    case $mode in
      offline) (cd "$repo" && mvn -B -q -o -DskipTests -pl "$module" -am package) && return 0 ;;
      online) (cd "$repo" && mvn -B -q -DskipTests -pl "$module" -am package) && return 0 ;;
      *) echo "$prog: mvn_package: unknown mode '$mode'" >&2; return 2 ;;
    esac
  done
  return 1
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT (bash's /dev/tcp, no client tool needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_ports PORT...: ends the script (exit 2) if one of the ports it is about to listen on is taken, e.g. by
# another run of a benchmark; BASE_PORT moves them.
require_free_ports() {
  local p
  for p in "$@"; do
    if port_open "$p"; then echo "$prog: port $p is in use; set BASE_PORT" >&2; exit 2; fi
  done
}

# apply_nice: renices this shell to $NICE, inherited by everything started after it; NICE=0 leaves it alone.
apply_nice() { if [ "$NICE" != 0 ]; then renice -n "$NICE" -p $$ >/dev/null; fi; }

# wait_for TRIES PAUSE COMMAND...: runs COMMAND until it succeeds, at most TRIES times, PAUSE seconds after each
# failure. Never fails itself: the scripts check what they need afterwards (a first request, a log).
wait_for() {
  local tries=$1 pause=$2 _
  shift 2
  for _ in $(seq "$tries"); do
    "$@" && break
    sleep "$pause"
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Results and scratch files

# new_work PREFIX: a fresh scratch folder /tmp/PREFIX.XXXXXX in $work, with $work/tmp for nginx's temp paths.
new_work() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  mkdir -p "$work/tmp"
}

# open_results: $stamp (UTC, to the second); $out = bench/results/<prog>-<stamp>.txt, created empty, which log()
# appends to; and new_work tollgate-<prog>-<stamp>.
open_results() {
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$here/results"
  out="$here/results/$prog-$stamp.txt"
  new_work "tollgate-$prog-$stamp"
  : >"$out"
}

# log ARGS...: one line on stdout and in $out.
log() { echo "$@" | tee -a "$out"; }

# ---------------------------------------------------------------------------------------------------------------
# Processes: every pid a script starts goes into PIDS; the EXIT trap stops them all, bounded in time.

PIDS=()
STOP_STYLE=poll

# stop_on_exit [poll|pause]: installs the traps (INT and TERM exit with 130, and the EXIT trap runs cleanup). How
# cleanup waits between TERM and KILL: poll [default], until all have exited, at most 5 s (checked every 0.1 s);
# pause, 1 s whatever happens (the scripts that began with it keep it).
stop_on_exit() {
  STOP_STYLE=${1:-poll}
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

# cleanup: the EXIT trap: TERM to every pid in PIDS, the wait STOP_STYLE says, KILL to any left; then the script's
# after_stop, if it defines one (compare.sh says where its scratch files are); exits with the script's status.
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ "$STOP_STYLE" = pause ]; then
    sleep 1
  else
    for _ in $(seq 50); do
      local alive=0
      for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
  fi
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if declare -F after_stop >/dev/null; then after_stop; fi
  exit $rc
}

# ---------------------------------------------------------------------------------------------------------------
# nginx

# nginx_conf NAME: an nginx.conf on stdout for the instance NAME: one worker, in the foreground, its pid file, error
# log and temp paths under $work (so nothing needs root), no access log, long-lived keep-alive. The lines of the
# http block (upstreams, servers, more settings) come from stdin; the block is closed after them.
nginx_conf() {
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
  # Long-lived keep-alive on every hop so no proxy pays for reconnects the other does not (nginx closes a
  # connection after 1000 requests by default; Tollgate has no such limit).
  keepalive_requests 1000000;
  keepalive_timeout 120s;
EOF
  cat
  echo "}"
}

# nginx_upstream_conf PORT: the config of the upstream the proxies under test forward to: nginx_conf upstream with one
# HTTP/1.1 server on 127.0.0.1:PORT that answers every request 200 with $BODY.
nginx_upstream_conf() {
  nginx_conf upstream <<EOF
  server {
    listen 127.0.0.1:$1 backlog=4096;
    location / { default_type text/plain; return 200 "$BODY"; }
  }
EOF
}

# start_nginx CPU NAME [NGINX_ARGS...]: runs nginx pinned to CPU with $work/NAME.conf, prefix $work (where its
# relative paths would go), output in $work/NAME.out; adds it to PIDS. Returns at once; $! is its pid.
start_nginx() {
  taskset -c "$1" "$NGINX_BIN" -p "$work" "${@:3}" -c "$work/$2.conf" >"$work/$2.out" 2>&1 &
  PIDS+=("$!")
}

# ---------------------------------------------------------------------------------------------------------------
# JWT scripts (jwt-compare.sh, jwt-flood.sh): one gateway, an open route and a JWT route to the same upstream

# jwt_fixture: writes the ES256 key set ($work/jwks.json) and a valid token for the JWT route ($TOKEN, also in
# $work/token.txt) with bench/target/benchmarks.jar's JwtFixture.
jwt_fixture() {
  java -cp "$here/target/benchmarks.jar" io.tollgate.bench.JwtFixture "$work"
  # shellcheck disable=SC2034 # read by the sourcing script
  TOKEN=$(cat "$work/token.txt")
}

# jwt_gateway_conf EVENT_LOOPS PORT ADMIN_PORT: the gateway config on stdout: /open/ proxies without auth; /v1/orgs/
# needs a token of jwt_fixture's issuer (ES256), its org equal to the path's and the reader role. Upstream: UP_PORT.
jwt_gateway_conf() {
  cat <<EOF
tollgate {
  event-loops = $1
  listeners = [{ name = bench, address = "127.0.0.1", port = $2 }]
  admin { address = "127.0.0.1", port = $3 }
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
}

# ---------------------------------------------------------------------------------------------------------------
# CPU time

# cpu_pids TARGET: the processes whose CPU time is charged to TARGET: nginx (the proxy: $NGX_PID, its master, and
# its workers), upstream ($UP_PID and its workers), tollgate ($TG_PID: the JVM, all its threads).
cpu_pids() {
  case $1 in
    nginx) echo "$NGX_PID $(pgrep -P "$NGX_PID" | tr '\n' ' ')" ;;
    tollgate) echo "$TG_PID" ;;
    upstream) echo "$UP_PID $(pgrep -P "$UP_PID" | tr '\n' ' ')" ;;
  esac
}

# cpu_ticks TARGET: utime + stime of TARGET's processes (cpu_pids), in ticks (CLK_TCK a second): fields 14 and 15
# of /proc/<pid>/stat, counted after the ") " that ends the command name. A process that has gone counts 0.
cpu_ticks() {
  local total=0 p s
  for p in $(cpu_pids "$1"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) } # fields from 3 on
    total=$((total + $(echo "$s" | awk '{ print $12 + $13 }')))
  done
  echo $total
}

# Other load: utime+stime of every user-space process that is not ours (other people's builds and tests), summed
# from /proc/*/stat. Kernel threads and irq/softirq time are left out: on loopback most of that is our own traffic
# (packet delivery is accounted as softirq, not to the sending process). A process that started during the run
# counts whole; one that started and ended inside it is missed.

# foreign_ticks_file FILE: writes "pid ticks" of every process but ours to FILE: ours are this shell and
# cpu_pids upstream, nginx and tollgate (so UP_PID, NGX_PID and TG_PID must be set).
foreign_ticks_file() {
  local ours
  ours=" $$ $(cpu_pids upstream) $(cpu_pids nginx) $(cpu_pids tollgate) "
  for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done | awk -v ours="$ours" '
    NF { pid = $1; sub(/^.*\) /, ""); if ($2 != 2 && pid != 2 && index(ours, " " pid " ") == 0) print pid, $12 + $13 }' >"$1"
}

# other_pct SECONDS: CPU of foreign processes between the snapshots $work/foreign-before and $work/foreign-after
# (foreign_ticks_file), in % of one core over SECONDS.
other_pct() {
  awk -v s="$1" -v hz="$CLK_TCK" 'NR == FNR { a[$1] = $2; next } { d += $2 - ($1 in a ? a[$1] : 0) }
    END { printf "%.0f", d * 100 / (s * hz) }' "$work/foreign-before" "$work/foreign-after"
}

# ---------------------------------------------------------------------------------------------------------------
# Summaries

# median [SORT_FLAG]: the median of the numbers on stdin (separated by spaces or newlines), 0 if there are none.
# SORT_FLAG is sort's: -n [default], or -g (general numbers; ratelimit.sh's choice).
# shellcheck disable=SC2120 # SORT_FLAG is optional
median() {
  tr ' ' '\n' | awk 'NF' | sort "${1:--n}" | awk '{ a[NR] = $1 }
    END { if (NR == 0) print 0; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# pair_field LIST N: every second word of LIST from word N on, i.e. column N (1 or 2) of a list of pairs
# "a1 b1 a2 b2 ..." (one "rate cpu" pair per run).
pair_field() { echo "$1" | awk -v f="$2" '{ for (i = f; i <= NF; i += 2) printf "%s ", $i }'; }
