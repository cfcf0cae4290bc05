#!/bin/sh
# make_certs.sh DIR — the hostile suite's throwaway PKI, made at test time
# (never committed). Writes into DIR:
#   ca.pem                      test CA (the client's ca_file)
#   server.pem/.key             signed by the CA, SAN IP:127.0.0.1, DNS:localhost
#   expired.pem/.key            signed by the CA, same SAN, valid 2020-01-01..2021-01-01
#   wronghost.pem/.key          signed by the CA, SAN DNS:other.test only
#   selfsigned.pem/.key         SAN IP:127.0.0.1 but self-signed (not from the CA)
# EC P-256 keys (fast on a loaded machine). Needs only the openssl CLI
# ($OPENSSL, default: openssl from PATH).
set -eu
OPENSSL=${OPENSSL:-openssl}
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
d=$1
cd "$d"
umask 077

key() { "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

key ca
"$OPENSSL" req -x509 -new -key ca.key -sha256 -days 3 -subj "/CN=lf-hostile-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem

# leaf NAME SERIAL SAN: a CA-signed server certificate valid now.
leaf() {
    key "$1"
    "$OPENSSL" req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$3" >"$1.ext"
    "$OPENSSL" x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$2" -days 3 -sha256 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
leaf server 1001 "IP:127.0.0.1,DNS:localhost"
leaf wronghost 1002 "DNS:other.test"

# Expired: `openssl x509` in OpenSSL 3.0 has no -not_before/-not_after, so
# use `openssl ca` with explicit past dates.
key expired
"$OPENSSL" req -new -key expired.key -subj "/CN=expired" -out expired.csr
mkdir -p newcerts
: >index.txt
echo 1003 >serial
cat >ca.cnf <<'CNF'
[ ca ]
default_ca = lfca
[ lfca ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
commonName = supplied
[ ext ]
subjectAltName = IP:127.0.0.1,DNS:localhost
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
CNF
"$OPENSSL" ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
    -out expired.pem -startdate 20200101000000Z -enddate 20210101000000Z -extensions ext 2>/dev/null

key selfsigned
"$OPENSSL" req -x509 -new -key selfsigned.key -sha256 -days 3 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -addext "basicConstraints=critical,CA:TRUE" \
    -out selfsigned.pem

for c in server wronghost expired; do
    "$OPENSSL" verify -CAfile ca.pem -no_check_time "$c.pem" >/dev/null
done
