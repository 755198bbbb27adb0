#!/usr/bin/env bash
# Stop the CI stack and delete its volumes (compose down -v), orphans included.
# Usage: scripts/ci/stack-down.sh
set -euo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"
ci_compose down -v --remove-orphans
echo "stack-down: project $CI_PROJECT removed with its volumes"
