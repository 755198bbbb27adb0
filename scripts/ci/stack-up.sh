#!/usr/bin/env bash
# Start the CI stack (compose -p bank-ci, gateway published on localhost:5000) and wait until
# http://localhost:5000/health answers; on a timeout, print `compose ps` and the logs, exit 1.
# Usage: scripts/ci/stack-up.sh [timeout_seconds=90]
set -euo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"

timeout="${1:-90}"
use_base_images
ci_compose up -d --remove-orphans
if ! "$CI_ROOT/scripts/wait_for_http.sh" "${BASE_URL:-http://localhost:5000}/health" "$timeout"; then
  ci_compose ps >&2 || true
  ci_compose logs --no-color --tail 100 >&2 || true
  exit 1
fi
ci_compose ps
