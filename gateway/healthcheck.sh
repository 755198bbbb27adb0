#!/usr/bin/env bash
# Container healthcheck of the gateway, without curl:
# 1. nginx resolves the upstream host only when it (re)loads, while Docker's DNS answer changes
#    when a web replica stops, is added, or is re-created with a new address. When the answer
#    differs from the addresses nginx loaded, reload nginx so that it follows the replicas by
#    itself, bracketed by a keep-alive drain like a deploy's flip (see gateway/nginx.conf): for
#    one second every response says "Connection: close", so that no client sends a request on a
#    keep-alive connection the old workers are closing.
# 2. liveness: an HTTP request over bash's /dev/tcp to the gateway's own location on 8081 (the upstream's
#    health is the web service's own healthcheck).
set -euo pipefail

readonly OWN_DRAIN_FLAG=/tmp/nginx/draining

# Number of nginx workers of a previous configuration still finishing their requests.
old_workers() {
  local n=0 f
  for f in /proc/[0-9]*/cmdline; do
    [[ "$(tr '\0' ' ' <"$f" 2>/dev/null)" == "nginx: worker process is shutting"* ]] && n=$((n + 1))
  done
  echo "$n"
}

reload_drained() {
  touch "$OWN_DRAIN_FLAG"
  sleep 1
  if nginx -t -q 2>/dev/null && nginx -s reload 2>/dev/null; then
    set-upstream --record
    local deadline=$((SECONDS + 5))
    sleep 0.2
    while (($(old_workers) > 0 && SECONDS < deadline)); do sleep 0.2; done
  fi
  rm -f "$OWN_DRAIN_FLAG"
}

known="$(cat /tmp/nginx/upstream.addr 2>/dev/null || true)"
now="$(set-upstream --addresses 2>/dev/null || true)"
if [[ -n "$now" && "$now" != "$known" ]]; then
  reload_drained
fi
# A healthcheck killed mid-drain (timeout) must not leave the flag behind.
rm -f "$OWN_DRAIN_FLAG"

# The internal listener: plain HTTP whether 8080 speaks HTTP or HTTPS.
exec 3<>/dev/tcp/127.0.0.1/8081
printf 'GET /_gateway_health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 2 status_line <&3
[[ "$status_line" == "HTTP/1.1 200"* ]]
