#!/usr/bin/env bash
# Make sure a Docker engine runs and a Compose is available; idempotent (a no-op when both are
# there). Installs from Debian's archive only: docker.io (engine + CLI) and, when the
# `docker compose` plugin is absent, docker-compose v1. Starts dockerd itself where no init
# system manages it (CI machines and containers), logging to /var/log/dockerd.log.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }
SUDO=()
[[ "$(id -u)" == 0 ]] || SUDO=(sudo)

apt_updated=0
apt_install() {
  if [[ "$apt_updated" == 0 ]]; then
    "${SUDO[@]}" apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  apt_install docker.io iptables ca-certificates
fi

if ! docker info >/dev/null 2>&1; then
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    log "starting docker with systemctl"
    "${SUDO[@]}" systemctl start docker
  else
    log "starting dockerd (log: /var/log/dockerd.log)"
    "${SUDO[@]}" sh -c 'nohup dockerd >>/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not start"; tail -20 /var/log/dockerd.log >&2 || true; exit 1; }
fi

if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  apt_install docker-compose
fi

log "engine $(docker version --format '{{.Server.Version}}'), compose: $(
  if docker compose version >/dev/null 2>&1; then docker compose version --short; else docker-compose version --short; fi
)"
