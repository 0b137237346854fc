#!/bin/sh
# Regenerates the test PEM files in this directory (run once; the outputs are committed).
# Needs only openssl (tested with OpenSSL 3.0). Validity: 36500 days, except expired.pem and expired-client.pem.
# `./make-certs.sh client` regenerates only the client (mTLS) files at the end, leaving the others as they are;
# `./make-certs.sh crl` only the revocation files (revoked-client, client CRLs), with the client CA as it is.
set -eu
only=${1:-all}
cd "$(dirname "$0")"
DAYS=36500
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

leaf() { # name subject san keyfile [extendedKeyUsage]
  openssl req -new -key "$4" -subj "$2" -out "$work/$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "${5:-serverAuth}" "$3" > "$work/$1.ext"
}

if [ "$only" = all ]; then
# Test CA (EC P-256, PKCS#8 key).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days $DAYS -subj "/CN=Tollgate Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# Default server certificate: localhost, api.example.com, 127.0.0.1 (EC P-256, PKCS#8 key).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server-key.pem
leaf server "/CN=localhost" "DNS:localhost,DNS:api.example.com,IP:127.0.0.1" server-key.pem
openssl x509 -req -in "$work/server.csr" -CA ca.pem -CAkey ca-key.pem -set_serial 2 -days $DAYS -sha256 \
  -extfile "$work/server.ext" -out server.pem

# Wildcard certificate *.example.com (EC P-256, SEC1 "EC PRIVATE KEY" key: the other common PEM form).
openssl ecparam -name prime256v1 -genkey -noout -out wildcard-key.pem
leaf wildcard "/CN=*.example.com" "DNS:*.example.com" wildcard-key.pem
openssl x509 -req -in "$work/wildcard.csr" -CA ca.pem -CAkey ca-key.pem -set_serial 3 -days $DAYS -sha256 \
  -extfile "$work/wildcard.ext" -out wildcard.pem

# RSA certificate rsa.example.com (RSA 2048, PKCS#1 "RSA PRIVATE KEY" key).
openssl genrsa -traditional -out rsa-key.pem 2048
leaf rsa "/CN=rsa.example.com" "DNS:rsa.example.com" rsa-key.pem
openssl x509 -req -in "$work/rsa.csr" -CA ca.pem -CAkey ca-key.pem -set_serial 4 -days $DAYS -sha256 \
  -extfile "$work/rsa.ext" -out rsa.pem

# Expired certificate (valid 2000-01-01 .. 2000-01-02), signed with `openssl ca` to set the dates.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out expired-key.pem
leaf expired "/CN=expired.example.com" "DNS:expired.example.com" expired-key.pem
mkdir -p "$work/ca"; : > "$work/ca/index.txt"; echo 05 > "$work/ca/serial"
cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
dir = $work/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
openssl ca -batch -config "$work/ca.cnf" -cert ca.pem -keyfile ca-key.pem -in "$work/expired.csr" \
  -startdate 20000101000000Z -enddate 20000102000000Z -extfile "$work/expired.ext" -notext -out expired.pem

# Not PEM at all, and a key that belongs to no certificate here.
printf 'this is not a PEM file\n' > not-pem.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other-key.pem

# A passphrase-protected key (refused by the loader).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass pass:test -out encrypted-key.pem
fi

if [ "$only" != crl ]; then
# ---- Client certificates for mTLS (listeners[].tls.client-ca / client-auth).
# A separate client CA (EC P-256), so a server certificate's CA is not also trusted for clients.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client-ca-key.pem
openssl req -x509 -new -key client-ca-key.pem -sha256 -days $DAYS -subj "/CN=Tollgate Test Client CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out client-ca.pem

# A client of the client CA with a SPIFFE ID.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client-key.pem
leaf client "/O=Tollgate Tests/CN=client-a" "URI:spiffe://tollgate.test/ns/default/sa/client-a" client-key.pem clientAuth
openssl x509 -req -in "$work/client.csr" -CA client-ca.pem -CAkey client-ca-key.pem -set_serial 16 -days $DAYS \
  -sha256 -extfile "$work/client.ext" -out client.pem

# A client certificate from another CA (the server CA): refused by a listener trusting client-ca.pem.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other-client-key.pem
leaf other-client "/CN=intruder" "URI:spiffe://tollgate.test/ns/default/sa/intruder" other-client-key.pem clientAuth
openssl x509 -req -in "$work/other-client.csr" -CA ca.pem -CAkey ca-key.pem -set_serial 17 -days $DAYS -sha256 \
  -extfile "$work/other-client.ext" -out other-client.pem

# An expired client certificate of the client CA (valid 2000-01-01 .. 2000-01-02).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out expired-client-key.pem
leaf expired-client "/CN=expired-client" "URI:spiffe://tollgate.test/ns/default/sa/expired" expired-client-key.pem clientAuth
mkdir -p "$work/cca"; : > "$work/cca/index.txt"; echo 12 > "$work/cca/serial"
cat > "$work/cca.cnf" <<CNF
[ca]
default_ca = test
[test]
dir = $work/cca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
openssl ca -batch -config "$work/cca.cnf" -cert client-ca.pem -keyfile client-ca-key.pem -in "$work/expired-client.csr" \
  -startdate 20000101000000Z -enddate 20000102000000Z -extfile "$work/expired-client.ext" -notext -out expired-client.pem

fi

if [ "$only" != crl ]; then
# An OCSP response saying server.pem is good, signed by the CA itself, valid 100 years (ocsp-response fixture).
printf 'V\t21261030012103Z\t\t02\tunknown\t/CN=localhost\n' > "$work/ocsp-index.txt"
openssl ocsp -issuer ca.pem -cert server.pem -no_nonce -reqout "$work/ocsp-req.der"
openssl ocsp -index "$work/ocsp-index.txt" -rsigner ca.pem -rkey ca-key.pem -CA ca.pem -reqin "$work/ocsp-req.der" \
  -respout server-ocsp.der -ndays 36500
fi

# ---- Client certificate revocation (listeners[].tls.client-crl).
# A client of the client CA that the CRLs below revoke (serial 0x20).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out revoked-client-key.pem
leaf revoked-client "/CN=revoked-client" "URI:spiffe://tollgate.test/ns/default/sa/revoked" revoked-client-key.pem clientAuth
openssl x509 -req -in "$work/revoked-client.csr" -CA client-ca.pem -CAkey client-ca-key.pem -set_serial 0x20 \
  -days $DAYS -sha256 -extfile "$work/revoked-client.ext" -out revoked-client.pem
crl() { # out cakey cacert indexline [extra ca options...]
  out=$1; key=$2; cert=$3; line=$4; shift 4
  mkdir -p "$work/crl"; printf "$line" > "$work/crl/index.txt"; echo 01 > "$work/crl/crlnumber"
  cat > "$work/crl.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/crl/index.txt
crlnumber = $work/crl/crlnumber
default_md = sha256
CNF
  openssl ca -batch -config "$work/crl.cnf" -gencrl -cert "$cert" -keyfile "$key" -out "$out" "$@"
}
revoked='R\t21261030012103Z\t260101000000Z,keyCompromise\t20\tunknown\t/CN=revoked-client\n'
# The client CA's CRL revoking revoked-client.pem, next update in 100 years.
crl client-crl.pem client-ca-key.pem client-ca.pem "$revoked" -crldays $DAYS
# The same CA's CRL revoking nothing (a live revocation test starts from it).
crl client-crl-empty.pem client-ca-key.pem client-ca.pem '' -crldays $DAYS
# Past its next update (2000-01-02): refused at load.
crl client-crl-expired.pem client-ca-key.pem client-ca.pem "$revoked" \
  -crl_lastupdate 20000101000000Z -crl_nextupdate 20000102000000Z
# Names the client CA as issuer but is signed by another key: its signature does not verify.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/forger-key.pem"
openssl req -x509 -new -key "$work/forger-key.pem" -sha256 -days $DAYS -subj "/CN=Tollgate Test Client CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$work/forger.pem"
crl client-crl-forged.pem "$work/forger-key.pem" "$work/forger.pem" "$revoked" -crldays $DAYS
