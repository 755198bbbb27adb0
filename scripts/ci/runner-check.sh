#!/usr/bin/env bash
# Check that the (self-hosted) runner can deploy: Docker engine, Compose and curl, with their versions.
# Usage: scripts/ci/runner-check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/compose.sh
source scripts/lib/compose.sh

docker version
compose version
curl --version | head -n 1
echo "runner-check: docker $(docker version --format '{{.Server.Version}}'), compose $(compose version --short)"
