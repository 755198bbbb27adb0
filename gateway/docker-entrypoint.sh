#!/usr/bin/env bash
# Gateway entrypoint: make sure an upstream file exists, write the public listener (plain HTTP or
# HTTPS, gateway-listen-conf), then run the command (nginx).
# GATEWAY_UPSTREAM_HOST (required on first start) is the web service to route to, e.g. `web` in
# CI/UAT or `web_blue` in PROD; GATEWAY_UPSTREAM_COLOR defaults to the part after the last `_`
# of the host (web_blue → blue), else to "default". An existing file (PROD's named volume after
# a flip) is kept as it is: the deploy script owns it from then on.
set -euo pipefail

mkdir -p /tmp/nginx
if [[ ! -s /etc/nginx/upstream/active.conf ]]; then
  host="${GATEWAY_UPSTREAM_HOST:?GATEWAY_UPSTREAM_HOST must name the web service to route to}"
  colour="${GATEWAY_UPSTREAM_COLOR:-}"
  if [[ -z "$colour" ]]; then
    if [[ "$host" == *_* ]]; then colour="${host##*_}"; else colour="default"; fi
  fi
  set-upstream --init "$host" "$colour" "${GATEWAY_UPSTREAM_PORT:-5000}"
fi
gateway-listen-conf
echo "gateway: upstream $(set-upstream --current), $(head -1 /tmp/nginx/listen.conf)" >&2
# The addresses nginx is about to resolve, for gateway-healthcheck's change detection.
set-upstream --record
exec "$@"
