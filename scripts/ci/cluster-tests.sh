#!/usr/bin/env bash
# Cluster tier of the tests (scripts/ci/stage.sh cluster): PROD on a real three-node Docker Swarm.
#   1. a Docker engine (scripts/docker-engine.sh) and the base images;
#   2. scripts/cluster.sh up: three docker-in-docker nodes and the cluster's registry (the node
#      image is rebuilt only when its recipe changes);
#   3. test/cluster (its own mocharc): deploy, cross-node traffic, flips and rollback, drain, a
#      node killed, a release crashing at boot, then the ledger, under load -> reports/junit-cluster.xml;
#   4. the memory each node used (docker stats), then scripts/cluster.sh down and the release
#      images the tier built, whatever happened. Prints the tier's duration.
# Arguments go to mocha (e.g. --grep 'drain' to run the first deploy and one scenario).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/ci/lib.sh
source "$ROOT/scripts/ci/lib.sh"

start=$SECONDS
log() { printf '[cluster-tier] %s\n' "$*" >&2; }

node_memory() {
  docker stats --no-stream --format '  {{.Name}} {{.MemUsage}} (CPU {{.CPUPerc}})' \
    bank-node-1 bank-node-2 bank-node-3 bank-cluster-registry >&2 2>/dev/null || true
}

teardown() {
  local status=$?
  log "memory of the nodes at the end:"
  node_memory
  "$ROOT/scripts/cluster.sh" down || true
  # The release images this tier built or pulled (the node image stays: a cache keyed by its recipe).
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(127\.0\.0\.1:[0-9]+/)?bank-(web|transactions|gateway):cluster-' |
    xargs -r docker rmi >/dev/null 2>&1 || true
  log "tier finished in $((SECONDS - start)) s (exit $status)"
}
trap teardown EXIT

"$ROOT/scripts/docker-engine.sh"
use_base_images
up_start=$SECONDS
"$ROOT/scripts/cluster.sh" up
log "cluster up in $((SECONDS - up_start)) s"
timeout --kill-after=30 "${CLUSTER_TIMEOUT:-1200}" npx mocha --config test/cluster/.mocharc.json "$@"
