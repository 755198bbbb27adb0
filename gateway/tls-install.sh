#!/usr/bin/env bash
# gateway-tls-install — replaces the gateway's certificate and key in /etc/nginx/tls (a volume)
# with cert.pem and key.pem read as a tar stream on stdin (scripts/gateway-tls.sh sends them:
# the key never appears on a command line). Mode 600, owned by nginx; atomic per file. A running
# nginx serves the new pair from its next reload (the deploy's flip reloads it).
set -euo pipefail

readonly DIR=/etc/nginx/tls
staging="$(mktemp -d "$DIR/.staging.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
umask 077
tar -C "$staging" -xf - cert.pem key.pem
for file in cert.pem key.pem; do
  [[ -s "$staging/$file" ]] || { echo "gateway-tls-install: $file missing from stdin" >&2; exit 1; }
done
mv -f "$staging/key.pem" "$DIR/key.pem"
mv -f "$staging/cert.pem" "$DIR/cert.pem"
echo "gateway-tls-install: certificate and key installed in $DIR" >&2
