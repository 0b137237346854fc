#!/usr/bin/env bash
# Runs Debian's testssl.sh against a Tollgate TLS listener with the shipped TLS defaults (protocols, ciphers),
# and prints the findings rated MEDIUM or worse (none is the goal). Loopback only; stops what it starts.
#
#   bench/testssl.sh            # ~3-6 min; needs openssl and testssl (apt-get install -y testssl.sh)
#
# The certificate is a throwaway CA + server certificate for 127.0.0.1/localhost made here, so findings about the
# certificate itself (trust chain not in a public store, no CRL/OCSP URI) are expected and listed separately, as are
# HTTP response-header findings (HSTS and friends), which belong to the route's responses, not to TLS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo and the functions shared by the scripts
command -v testssl >/dev/null || { echo "installing testssl.sh" >&2; apt-get install -y -qq testssl.sh >/dev/null; }
jar="$repo/gateway/target/tollgate.jar"
[ -f "$jar" ] || mvn_package gateway online

new_work tollgate-testssl # $work
port=${PORT:-28443}
# One process, stopped and waited for (no time bound): lib.sh's PIDS and cleanup are not used here.
# shellcheck disable=SC2317 # run by the trap
stop_gateway() { [ -n "${gw:-}" ] && kill "$gw" 2>/dev/null; wait 2>/dev/null || true; }
trap stop_gateway EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 400 -subj "/CN=tollgate-testssl-ca" \
  -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$work/server-key.pem" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial -days 365 \
  -extfile "$work/ext.cnf" -out "$work/server.pem" 2>/dev/null
cat > "$work/tls.conf" <<CONF
tollgate {
  event-loops = 1
  listeners = [{ name = https, address = "127.0.0.1", port = $port,
                 tls { cert-chain = "server.pem", private-key = "server-key.pem" } }]
  admin.enabled = false
  access-log.enabled = false
  routes = [{ name = hello, direct-response { status = 200, body = "ok\n" } }]
}
CONF
java -Xmx128m -jar "$jar" run --config "$work/tls.conf" > "$work/gateway.log" 2>&1 &
gw=$!
wait_for 50 0.2 port_open "$port"

echo "testssl against https://127.0.0.1:$port ($(head -1 "$work/gateway.log" | sed 's/.*tollgate ready: //'))"
testssl --quiet --color 0 --warnings off --severity MEDIUM --jsonfile "$work/findings.json" \
  "https://127.0.0.1:$port" > "$work/testssl.txt" 2>&1 || true
# set -e would end the script at a non-zero check; the status is the script's answer, after the report line.
status=0
python3 - "$work/findings.json" <<'PY' || status=$?
import json, sys
findings = json.load(open(sys.argv[1]))
bad = [f for f in findings if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
cert = [f for f in bad if f["id"].startswith(("cert_chain_of_trust", "cert_trust", "cert_revocation"))]
http = [f for f in bad if f["id"] in ("security_headers", "HSTS")]
other = [f for f in bad if f not in cert and f not in http]
for f in cert:
    print(f"test certificate (throwaway CA): {f['severity']:8} {f['id']}: {f['finding']}")
for f in http:
    print(f"HTTP response headers, not TLS:  {f['severity']:8} {f['id']}: {f['finding']}")
for f in other:
    print(f"FINDING: {f['severity']:8} {f['id']}: {f['finding']}")
print(f"{len(other)} TLS finding(s) rated MEDIUM or worse (protocols, ciphers, vulnerabilities)")
sys.exit(1 if other else 0)
PY
echo "full report: $work/testssl.txt"
exit $status
