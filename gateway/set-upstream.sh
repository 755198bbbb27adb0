#!/usr/bin/env bash
# set-upstream — point the gateway at another web service, safely. Installed in the gateway image
# as /usr/local/bin/set-upstream; the blue/green deploy runs it with `docker exec`.
#
#   set-upstream HOST COLOUR [PORT]   write the upstream for HOST:PORT (PORT defaults to 5000),
#                                     test the config with `nginx -t`, then reload nginx.
#                                     On any failure the previous file is put back and the exit
#                                     status is non-zero: the old colour keeps serving.
#   set-upstream --init HOST COLOUR [PORT]
#                                     only write the file, and only if it does not exist yet
#                                     (used by the entrypoint before nginx starts).
#   set-upstream --current            print "HOST COLOUR" of the active upstream.
#   set-upstream --addresses          print the addresses HOST resolves to now, sorted, on one
#                                     line (what nginx gets when it reloads).
#   set-upstream --record             record them as the ones nginx has loaded (after a reload).
#
# The file is /etc/nginx/upstream/active.conf (a named volume in PROD, so it survives the
# gateway's re-creation). nginx resolves HOST when it (re)loads: the target must be running.
# With replicas, Docker's DNS answers HOST with one address per container and nginx makes each
# one a server of the upstream: requests are spread round-robin over them. A replica that fails
# (connection refused or reset, timeout) is left aside for fail_timeout and the request, when
# it is idempotent, is retried on another one (gateway/nginx.conf, proxy_next_upstream). The
# addresses nginx loaded are recorded in /tmp/nginx/upstream.addr: gateway-healthcheck reloads
# nginx when the DNS answer changes (a replica stopped, added or restarted with a new address).
set -euo pipefail

readonly DIR="${GATEWAY_UPSTREAM_DIR:-/etc/nginx/upstream}"
readonly FILE="$DIR/active.conf"

usage() {
  echo "usage: set-upstream [--init] HOST COLOUR [PORT] | set-upstream --current|--addresses|--record" >&2
  exit 2
}

render() {
  local host="$1" colour="$2" port="$3"
  cat <<CONF
# active: $host $colour
# Written by set-upstream; the gateway routes every request to this web service.
upstream web_active {
    # One server per address of $host (one per replica). Shared by the workers: a replica that
    # failed once is left aside by all of them for 10 s (ignored when there is one address).
    zone web_active 64k;
    server $host:$port max_fails=1 fail_timeout=10s;
    keepalive 64;
    # Below the services' keep-alive timeout (65 s): nginx closes idle sockets first.
    keepalive_timeout 60s;
}
map \$host \$upstream_color {
    default "$colour";
}
CONF
}

current() {
  [[ -s "$FILE" ]] || { echo "set-upstream: $FILE does not exist" >&2; exit 1; }
  sed -n 's/^# active: //p' "$FILE" | head -1
}

# IPv4 addresses of a host, sorted, space-separated (empty when it does not resolve).
addresses_of() {
  getent ahostsv4 "$1" 2>/dev/null | awk '{ print $1 }' | sort -u | paste -sd ' ' - || true
}

# Records the addresses nginx has just loaded, for gateway-healthcheck's change detection.
record_addresses() {
  if [[ -d /tmp/nginx ]]; then addresses_of "$1" >/tmp/nginx/upstream.addr; fi
}

init=0
case "${1:-}" in
  --current)
    current
    exit 0
    ;;
  --addresses)
    read -r host _ < <(current)
    addresses_of "$host"
    exit 0
    ;;
  --record)
    read -r host _ < <(current)
    record_addresses "$host"
    exit 0
    ;;
  --init) init=1; shift ;;
esac
[[ $# -ge 2 && $# -le 3 ]] || usage
host="$1" colour="$2" port="${3:-5000}"
[[ "$host" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || { echo "set-upstream: invalid host '$host'" >&2; exit 2; }
[[ "$colour" =~ ^[a-zA-Z0-9_-]+$ ]] || { echo "set-upstream: invalid colour '$colour'" >&2; exit 2; }
[[ "$port" =~ ^[0-9]{1,5}$ ]] || { echo "set-upstream: invalid port '$port'" >&2; exit 2; }

tmp="$(mktemp "$DIR/.active.conf.XXXXXX")"
render "$host" "$colour" "$port" >"$tmp"
chmod 644 "$tmp"

if [[ "$init" == 1 ]]; then
  if [[ -s "$FILE" ]]; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$FILE"
  fi
  exit 0
fi

backup=""
if [[ -s "$FILE" ]]; then
  backup="$(mktemp "$DIR/.active.conf.bak.XXXXXX")"
  cp -p "$FILE" "$backup"
fi
restore() {
  if [[ -n "$backup" ]]; then mv -f "$backup" "$FILE"; else rm -f "$FILE"; fi
  echo "set-upstream: $1; previous upstream restored" >&2
  exit 1
}
mv -f "$tmp" "$FILE"
nginx -t -q || restore "nginx -t refused the new upstream"
nginx -s reload || restore "nginx reload failed"
[[ -n "$backup" ]] && rm -f "$backup"
record_addresses "$host"
echo "set-upstream: now routing to $host:$port ($colour)"
