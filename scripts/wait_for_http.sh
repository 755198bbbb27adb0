#!/usr/bin/env bash
# Wait until an HTTP endpoint answers successfully.
#
# Usage: scripts/wait_for_http.sh URL [timeout_seconds=60] [interval_seconds=1]
#
# Polls URL with curl (-sS, failing on HTTP >= 400 like `curl -fsS`, but keeping the body for the
# diagnostics). The pause between attempts starts at `interval` and doubles after each failure, capped
# at WAIT_MAX_INTERVAL seconds (default 5) and never sleeping past the deadline. Each attempt is
# bounded by WAIT_ATTEMPT_TIMEOUT seconds (default 5) so a hanging server cannot overrun the timeout.
# Succeeds on the first healthy answer and prints it.
#
# Exit codes:
#   0  the URL answered 2xx/3xx within the timeout
#   1  timeout: no healthy answer in time; prints last status, last body (first 500 bytes), elapsed
#   2  bad usage (missing URL, non-numeric timeout or interval)
set -euo pipefail

usage() {
  echo "usage: $0 URL [timeout_seconds] [interval_seconds]" >&2
  exit 2
}

is_number() {
  [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]
}

[[ $# -ge 1 && $# -le 3 && -n "$1" ]] || usage
url="$1"
timeout="${2:-60}"
interval="${3:-1}"
max_interval="${WAIT_MAX_INTERVAL:-5}"
attempt_timeout="${WAIT_ATTEMPT_TIMEOUT:-5}"
for value in "$timeout" "$interval" "$max_interval" "$attempt_timeout"; do
  is_number "$value" || {
    echo "wait_for_http: '$value' is not a number of seconds" >&2
    exit 2
  }
done

now() { date +%s.%N; }
# Floating-point helpers (bash arithmetic is integer only).
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
less_than() { awk "BEGIN { exit !($1 < $2) }"; }

body_file="$(mktemp)"
err_file="$(mktemp)"
trap 'rm -f "$body_file" "$err_file"' EXIT

start="$(now)"
deadline="$(calc "$start + $timeout")"
pause="$interval"
attempts=0
last_status="none"

while :; do
  attempts=$((attempts + 1))
  remaining="$(calc "$deadline - $(now)")"
  per_try="$attempt_timeout"
  if less_than "$remaining" "$per_try"; then per_try="$remaining"; fi
  if less_than "$per_try" 0.2; then per_try=0.2; fi
  : >"$body_file"
  if status="$(curl -sS --fail-with-body --max-time "$per_try" -o "$body_file" -w '%{http_code}' "$url" 2>"$err_file")"; then
    echo "wait_for_http: $url healthy (HTTP $status) after $(calc "$(now) - $start")s, $attempts attempt(s)"
    head -c 500 "$body_file"
    echo
    exit 0
  fi
  last_status="${status:-none}"
  [[ "$last_status" != "000" ]] || last_status="none (no HTTP answer)"
  remaining="$(calc "$deadline - $(now)")"
  less_than 0 "$remaining" || break
  if less_than "$remaining" "$pause"; then
    sleep "$remaining"
  else
    sleep "$pause"
  fi
  pause="$(calc "$pause * 2")"
  if less_than "$max_interval" "$pause"; then pause="$max_interval"; fi
done

{
  echo "wait_for_http: $url not healthy after $(calc "$(now) - $start")s ($attempts attempt(s), timeout ${timeout}s)"
  echo "  last HTTP status: $last_status"
  [[ ! -s "$err_file" ]] || echo "  last curl error: $(tr '\n' ' ' <"$err_file")"
  echo "  last body: $(head -c 500 "$body_file" | tr '\n' ' ')"
} >&2
exit 1
