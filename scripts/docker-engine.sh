#!/usr/bin/env bash
# Find the Docker engine and a Compose; install only what is really missing. Idempotent.
#
#   1. Engine: `docker info` is asked first. Docker Desktop (WSL2, macOS), GitHub's runners and a
#      running dockerd answer it: nothing is installed then, ever. Where it does not answer:
#        - macOS, or WSL without a dockerd of its own: one line saying to start Docker Desktop, exit 1;
#        - the socket refuses this user: one line saying how to get access, exit 1;
#        - a Linux host with dockerd installed but stopped: started (systemctl, else dockerd in the
#          background, log in $DOCKERD_LOG, default /var/log/dockerd.log);
#        - a Linux host with no engine at all: says so, then installs Debian's docker.io (apt-get).
#   2. Compose: `docker compose` (v2) when it answers. Else, on amd64 with dpkg, the v2 CLI plugin
#      from Debian 13's docker-compose 2.26.1-4 package (that one .deb, checked against its SHA256,
#      only its plugin file copied: the system is not upgraded). Compose v1 (`docker-compose`) is
#      accepted where v2 cannot be had.
# Ends with one line naming the engine and the Compose in use. Exit 1 with one line where nothing
# can work.
set -euo pipefail

readonly COMPOSE_DEB_URL="http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb"
readonly COMPOSE_DEB_SHA256="47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea"
PROC_VERSION="${DOCKER_ENGINE_PROC_VERSION:-/proc/version}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"

log() { printf '[docker-engine] %s\n' "$*" >&2; }
die() {
  printf '[docker-engine] %s\n' "$*" >&2
  exit 1
}

SUDO=()
[[ "$(id -u)" == 0 ]] || SUDO=(sudo)

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine and no apt-get to install one: install Docker Engine (https://docs.docker.com/engine/install/)"
  if [[ "$apt_updated" == 0 ]]; then
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
}

is_wsl() { grep -qi microsoft "$PROC_VERSION" 2>/dev/null; }

start_dockerd() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    log "starting the docker service (systemctl start docker)"
    "${SUDO[@]}" systemctl start docker
  else
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    # shellcheck disable=SC2016 # $1 is expanded by the inner sh
    "${SUDO[@]}" sh -c 'nohup dockerd >>"$1" 2>&1 &' sh "$DOCKERD_LOG"
  fi
  local _
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  tail -20 "$DOCKERD_LOG" >&2 2>/dev/null || true
  die "dockerd did not answer within 60 s (see above)"
}

find_engine() {
  local info
  if command -v docker >/dev/null 2>&1 && info="$(docker info 2>&1)"; then
    return 0
  fi
  if [[ "$(uname -s)" == Darwin ]]; then
    die "no Docker engine answers: install or start Docker Desktop for Mac (https://docs.docker.com/desktop/)"
  fi
  if [[ "${info:-}" == *"permission denied"* ]]; then
    die "the Docker socket refuses user $(id -un): run as root, or 'sudo usermod -aG docker $(id -un)' and log in again"
  fi
  if command -v dockerd >/dev/null 2>&1; then
    start_dockerd
    return 0
  fi
  if is_wsl; then
    die "no Docker engine answers in WSL: start Docker Desktop and enable its WSL integration for this distribution (Settings > Resources > WSL integration)"
  fi
  log "no Docker engine on this Linux host: installing Debian's docker.io (engine and CLI)"
  apt_install docker.io iptables ca-certificates
  start_dockerd
}

download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
  fi
}

# The Compose v2 CLI plugin from Debian 13's package, without installing the package itself.
install_compose_plugin() {
  local dir work
  if [[ "$(id -u)" == 0 ]]; then dir=/usr/libexec/docker/cli-plugins; else dir="$HOME/.docker/cli-plugins"; fi
  work="$(mktemp -d)"
  log "no 'docker compose': installing the Compose v2 plugin from $COMPOSE_DEB_URL into $dir"
  if ! download "$COMPOSE_DEB_URL" "$work/compose.deb"; then
    rm -rf "$work"
    log "could not download $COMPOSE_DEB_URL"
    return 1
  fi
  if ! echo "$COMPOSE_DEB_SHA256  $work/compose.deb" | sha256sum -c --status; then
    rm -rf "$work"
    log "$COMPOSE_DEB_URL does not have the expected SHA256 $COMPOSE_DEB_SHA256: not installed"
    return 1
  fi
  dpkg-deb -x "$work/compose.deb" "$work/root"
  mkdir -p "$dir"
  install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$dir/docker-compose"
  rm -rf "$work"
}

find_compose() {
  docker compose version >/dev/null 2>&1 && return 0
  if [[ "$(uname -m)" == x86_64 ]] && command -v dpkg-deb >/dev/null 2>&1 && install_compose_plugin \
    && docker compose version >/dev/null 2>&1; then
    return 0
  fi
  if command -v docker-compose >/dev/null 2>&1; then
    log "Compose v2 could not be installed here; using Compose v1 (docker-compose)"
    return 0
  fi
  die "no Compose: install the Docker Compose v2 plugin (https://docs.docker.com/compose/install/linux/)"
}

find_engine
find_compose
if docker compose version >/dev/null 2>&1; then
  compose_version="docker compose $(docker compose version --short) (v2)"
else
  compose_version="docker-compose $(docker-compose version --short) (v1)"
fi
log "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) ($(docker info --format '{{.OperatingSystem}}' 2>/dev/null)); compose: $compose_version"
