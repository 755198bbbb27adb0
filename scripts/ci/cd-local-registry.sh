#!/usr/bin/env bash
# A real image registry on this host for the MODE=image tests: Debian's docker-registry package
# (the CNCF distribution registry), plain HTTP on 127.0.0.1:5005 (dockerd trusts loopback
# registries without an insecure-registries setting), storage in a throwaway directory.
#
#   scripts/ci/cd-local-registry.sh start   install the package if absent (root: apt-get), start
#                                           the registry, wait until /v2/ answers
#   scripts/ci/cd-local-registry.sh stop    stop it and delete its storage
# REGISTRY_ADDR (default 127.0.0.1:5005), REGISTRY_DIR (default /tmp/bank-local-registry).
set -euo pipefail

addr="${REGISTRY_ADDR:-127.0.0.1:5005}"
dir="${REGISTRY_DIR:-/tmp/bank-local-registry}"
log() { printf '[local-registry] %s\n' "$*" >&2; }

install_registry() {
  command -v docker-registry >/dev/null 2>&1 && return 0
  [[ "$(id -u)" -eq 0 ]] || {
    log "docker-registry is not installed (apt-get install docker-registry, as root)"
    exit 1
  }
  log "installing Debian's docker-registry package"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # The package's own service must not start: it would listen on port 5000 (the CI stack's).
  local policy=/usr/sbin/policy-rc.d added=false
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends docker-registry >/dev/null
  [[ "$added" == false ]] || rm -f "$policy"
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  fi
}

start() {
  install_registry
  if curl -fsS --max-time 2 "http://$addr/v2/" >/dev/null 2>&1; then
    log "a registry already answers on $addr"
    return 0
  fi
  mkdir -p "$dir/storage"
  cat >"$dir/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $addr
CONF
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  local attempt
  for attempt in $(seq 1 50); do
    if curl -fsS --max-time 2 "http://$addr/v2/" >/dev/null 2>&1; then
      log "registry $(docker-registry --version 2>/dev/null | awk '{ print $NF }') on $addr (pid $(cat "$dir/registry.pid"), storage $dir/storage)"
      return 0
    fi
    sleep 0.2
  done
  log "the registry did not answer after $attempt attempts on $addr:"
  cat "$dir/registry.log" >&2
  exit 1
}

stop() {
  if [[ -f "$dir/registry.pid" ]]; then
    kill "$(cat "$dir/registry.pid")" 2>/dev/null || true
    log "registry on $addr stopped"
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
