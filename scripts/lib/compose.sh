#!/usr/bin/env bash
# Docker Compose, whichever is installed: the v2 plugin (`docker compose`) or v1 (`docker-compose`,
# Debian's package where the plugin is absent). Two ways to use it:
#   source scripts/lib/compose.sh; compose -p bank-ci -f compose/docker-compose.ci.yml up -d
#   scripts/lib/compose.sh -p bank-ci -f compose/docker-compose.ci.yml up -d
# COMPOSE_CMD overrides the choice (e.g. COMPOSE_CMD=docker-compose).
# Stays v1-compatible on purpose: no top-level `name:` key in the files, always pass `-p`.

compose_detect() {
  if [[ -n "${COMPOSE_CMD:-}" ]]; then
    read -r -a COMPOSE_ARGV <<<"$COMPOSE_CMD"
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE_ARGV=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE_ARGV=(docker-compose)
  else
    echo "compose: neither 'docker compose' nor 'docker-compose' is installed (run scripts/docker-engine.sh)" >&2
    return 1
  fi
}

compose() {
  if [[ -z "${COMPOSE_ARGV+set}" ]]; then
    compose_detect || return 1
  fi
  "${COMPOSE_ARGV[@]}" "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  compose "$@"
fi
