#!/usr/bin/env bash
# Helpers shared by the scripts of scripts/ci (sourced, not run).
#   ci_compose ARGS...     compose on the CI stack (-p bank-ci -f compose/docker-compose.ci.yml)
#   ci_images              the images the CI stack runs, one per line
#   image_available IMAGE  true when IMAGE is local or can be pulled (fails fast without a registry)
#   use_base_images        exports NODE_IMAGE/POSTGRES_IMAGE/NGINX_IMAGE: the official images when
#                          they can be had (GitHub, laptops), else the ones scripts/offline-base-images.sh
#                          builds from Debian and npm packages (machines without Docker Hub)

CI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CI_PROJECT="${CI_PROJECT:-bank-ci}"
CI_COMPOSE_FILE="${CI_COMPOSE_FILE:-$CI_ROOT/compose/docker-compose.ci.yml}"
# shellcheck source=scripts/lib/compose.sh
source "$CI_ROOT/scripts/lib/compose.sh"

ci_compose() {
  compose -p "$CI_PROJECT" -f "$CI_COMPOSE_FILE" "$@"
}

ci_images() {
  ci_compose config | sed -n 's/^[[:space:]]*image:[[:space:]]*//p' | tr -d "\"'" | sort -u
}

image_available() {
  docker image inspect "$1" >/dev/null 2>&1 || timeout "${PULL_TIMEOUT:-300}" docker pull -q "$1" >/dev/null 2>&1
}

use_base_images() {
  if [[ -n "${NODE_IMAGE:-}" ]]; then
    echo "base images: NODE_IMAGE=${NODE_IMAGE} (from the environment)" >&2
    return 0
  fi
  if image_available node:24-bookworm-slim@sha256:235600a8101ab264e117b1768e925532262668dc9b581ef1dd7d96ced463b8e7; then
    echo "base images: the official ones (node:24-bookworm-slim@sha256:235600a8101ab264e117b1768e925532262668dc9b581ef1dd7d96ced463b8e7, ...)" >&2
    return 0
  fi
  echo "base images: Docker Hub unreachable, building them from Debian and npm packages" >&2
  local lines line
  # Captured first: a failure inside `done < <(...)` would go unnoticed and leave NODE_IMAGE unset.
  lines="$("$CI_ROOT/scripts/offline-base-images.sh" --print-env)" || {
    echo "base images: scripts/offline-base-images.sh failed (see above)" >&2
    return 1
  }
  while IFS= read -r line; do
    case "$line" in
      NODE_IMAGE=* | POSTGRES_IMAGE=* | NGINX_IMAGE=*) export "${line?}" ;;
    esac
  done <<<"$lines"
  echo "base images: NODE_IMAGE=$NODE_IMAGE NGINX_IMAGE=${NGINX_IMAGE:-} POSTGRES_IMAGE=${POSTGRES_IMAGE:-}" >&2
}
