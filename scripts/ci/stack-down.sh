#!/usr/bin/env bash
# The `stack-down` stage: the CI stack stopped and its volumes deleted (test data only), orphans
# included. scripts/stack-down.sh knows every stack's project, files and profiles.
# Usage: scripts/ci/stack-down.sh
set -euo pipefail
exec "$(dirname "$0")/../stack-down.sh" ci --delete-data
