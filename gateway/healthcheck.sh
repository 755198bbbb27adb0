#!/usr/bin/env bash
# Container healthcheck of the gateway, without curl:
# 1. nginx resolves the upstream host only when it (re)loads, while a restarted or re-created web
#    container usually gets a new address. When the host now resolves to another address than the
#    one nginx loaded, reload nginx (graceful) so that it follows the service by itself.
# 2. liveness: an HTTP request over bash's /dev/tcp to the gateway's own location (the upstream's
#    health is the web service's own healthcheck).
set -euo pipefail

conf=/etc/nginx/upstream/active.conf
known_file=/tmp/nginx/upstream.addr
host="$(sed -n 's/^# active: \([^ ]*\) .*/\1/p' "$conf" | head -1)"
addr="$(getent hosts "$host" | awk '{ print $1; exit }' || true)"
if [[ -n "$addr" && "$addr" != "$(cat "$known_file" 2>/dev/null || true)" ]]; then
  echo "$addr" >"$known_file"
  nginx -s reload 2>/dev/null || true
fi

exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET /_gateway_health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 2 status_line <&3
[[ "$status_line" == "HTTP/1.1 200"* ]]
