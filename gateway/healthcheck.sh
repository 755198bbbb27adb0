#!/usr/bin/env bash
# Container healthcheck without curl: an HTTP request over bash's /dev/tcp to the gateway's own
# liveness location (the upstream's health is the web service's own healthcheck).
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET /_gateway_health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 2 status_line <&3
[[ "$status_line" == "HTTP/1.1 200"* ]]
