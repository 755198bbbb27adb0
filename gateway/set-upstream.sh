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
#
# The file is /etc/nginx/upstream/active.conf (a named volume in PROD, so it survives the
# gateway's re-creation). nginx resolves HOST when it (re)loads: the target must be running.
set -euo pipefail

readonly DIR="${GATEWAY_UPSTREAM_DIR:-/etc/nginx/upstream}"
readonly FILE="$DIR/active.conf"

usage() {
  echo "usage: set-upstream [--init] HOST COLOUR [PORT] | set-upstream --current" >&2
  exit 2
}

render() {
  local host="$1" colour="$2" port="$3"
  cat <<CONF
# active: $host $colour
# Written by set-upstream; the gateway routes every request to this web service.
upstream web_active {
    server $host:$port max_fails=0;
    keepalive 64;
    # Below the services' keep-alive timeout (65 s): nginx closes idle sockets first.
    keepalive_timeout 60s;
}
map \$host \$upstream_color {
    default "$colour";
}
CONF
}

init=0
case "${1:-}" in
  --current)
    [[ -s "$FILE" ]] || { echo "set-upstream: $FILE does not exist" >&2; exit 1; }
    sed -n 's/^# active: //p' "$FILE" | head -1
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
# The address nginx now uses, for gateway-healthcheck's change detection.
if [[ -d /tmp/nginx ]]; then
  getent hosts "$host" | awk '{ print $1; exit }' >/tmp/nginx/upstream.addr || true
fi
echo "set-upstream: now routing to $host:$port ($colour)"
