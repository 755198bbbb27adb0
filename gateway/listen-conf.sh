#!/usr/bin/env bash
# gateway-listen-conf — writes /tmp/nginx/listen.conf, the public listener of gateway/nginx.conf,
# from the container's environment (installed as /usr/local/bin/gateway-listen-conf, run by
# gateway-entrypoint before nginx starts):
#   GATEWAY_TLS=off (default)   plain HTTP on 8080
#   GATEWAY_TLS=on              HTTPS on 8080 with /etc/nginx/tls/cert.pem and key.pem (the
#                               deploy installs them: scripts/gateway-tls.sh): TLS 1.2 and 1.3
#                               only, forward-secret AEAD ciphers, HTTP/2, HSTS (nginx.conf), and
#                               a plain HTTP request on the same port redirected to
#                               https://<host>:GATEWAY_PUBLIC_PORT (the port the host publishes)
set -euo pipefail

readonly OUT=/tmp/nginx/listen.conf TLS_DIR=/etc/nginx/tls

fail() {
  echo "gateway: $*" >&2
  exit 1
}

# nginx 1.25.1 replaced `listen ... http2` by the `http2` directive (the old form still works,
# with a warning): Debian's 1.22 knows only the first, the official 1.28 image prefers the second.
http2_supported_as_directive() {
  local version major minor patch
  version="$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')"
  IFS=. read -r major minor patch <<<"$version"
  ((major > 1 || (major == 1 && (minor > 25 || (minor == 25 && ${patch:-0} >= 1)))))
}

mkdir -p /tmp/nginx
case "${GATEWAY_TLS:-off}" in
  off)
    echo "listen 8080 default_server;" >"$OUT"
    ;;
  on)
    for file in cert.pem key.pem; do
      [[ -s "$TLS_DIR/$file" ]] || fail "GATEWAY_TLS=on but $TLS_DIR/$file is missing (scripts/gateway-tls.sh installs it)"
    done
    port="${GATEWAY_PUBLIC_PORT:?GATEWAY_PUBLIC_PORT must name the port the host publishes (redirects)}"
    [[ "$port" =~ ^[0-9]{1,5}$ ]] || fail "GATEWAY_PUBLIC_PORT must be a port number, got '$port'"
    if http2_supported_as_directive; then
      listen="listen 8080 ssl default_server;
http2 on;"
    else
      listen="listen 8080 ssl http2 default_server;"
    fi
    cat >"$OUT" <<CONF
$listen
ssl_certificate $TLS_DIR/cert.pem;
ssl_certificate_key $TLS_DIR/key.pem;
ssl_protocols TLSv1.2 TLSv1.3;
# TLS 1.2: ECDHE key exchange (forward secrecy) with an AEAD cipher only. TLS 1.3's suites all are.
ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
ssl_prefer_server_ciphers off;
ssl_ecdh_curve X25519:prime256v1:secp384r1;
ssl_session_cache shared:TLS:10m;
ssl_session_timeout 1d;
# Tickets would reuse one key for every session until nginx restarts: no forward secrecy.
ssl_session_tickets off;
# A plain HTTP request on this HTTPS port (nginx's code 497): redirected to HTTPS.
error_page 497 =301 https://\$host:$port\$request_uri;
CONF
    ;;
  *) fail "GATEWAY_TLS must be on or off, got '${GATEWAY_TLS}'" ;;
esac
