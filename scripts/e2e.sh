#!/usr/bin/env bash
# Docker tier of the tests (what .ci/run calls after `npm test`):
#   1. a Docker engine and a Compose (scripts/docker-engine.sh installs/starts them if absent);
#   2. base images: the official ones when Docker Hub answers, else built from Debian and npm
#      packages (scripts/offline-base-images.sh), exported as NODE_IMAGE / POSTGRES_IMAGE / NGINX_IMAGE;
#   3. the images: bank-{web,transactions,gateway}:ci through the CI compose file, also tagged
#      :local (the default tag of the UAT and PROD files);
#   4. `npm run test:e2e` (test/e2e: CI, UAT, PROD stacks, faults, blue/green).
# Every stack the tests start is removed again, also when they fail or time out
# (E2E_TIMEOUT seconds, default 2700). Prints the tier's duration.
# Warning: removes the bank-ci, bank-uat and bank-prod projects' containers and volumes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/ci/lib.sh
source "$ROOT/scripts/ci/lib.sh"

start=$SECONDS
log() { printf '[e2e] %s\n' "$*" >&2; }

teardown() {
  local project file
  for pair in bank-ci:ci bank-uat:uat bank-uat-broken:uat bank-prod:prod; do
    project="${pair%%:*}" file="compose/docker-compose.${pair##*:}.yml"
    if [[ -n "$(docker ps -aq --filter "label=com.docker.compose.project=$project")" ]] \
      || [[ -n "$(docker volume ls -q --filter "label=com.docker.compose.project=$project")" ]]; then
      log "removing leftover stack $project"
      # The env file only matters for interpolation; any readable one will do for `down`.
      ENV_FILE="$ROOT/compose/.env.${pair##*:}.example" \
        compose -p "$project" -f "$file" --profile blue --profile green down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
    fi
  done
  # The local registry of the MODE=image tests, should a test run have been killed before its own stop.
  "$ROOT/scripts/ci/cd-local-registry.sh" stop >/dev/null 2>&1 || true
  log "tier finished in $((SECONDS - start)) s"
}
trap teardown EXIT

"$ROOT/scripts/docker-engine.sh"
use_base_images

log "building the images"
build_start=$SECONDS
ci_compose build
for image in web transactions gateway; do
  docker tag "bank-$image:ci" "bank-$image:local"
done
log "images built in $((SECONDS - build_start)) s:"
docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'bank-(web|transactions|gateway):ci|bank-offline/' >&2 || true

timeout --kill-after=30 "${E2E_TIMEOUT:-2700}" npm run test:e2e
