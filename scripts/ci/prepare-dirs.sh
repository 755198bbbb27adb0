#!/usr/bin/env bash
# Create the report directories every later CI step writes into (reports/, zap-reports/).
# ZAP's container runs as uid 1000 (zap) and writes into zap-reports/, so that one is world-writable.
# Usage: scripts/ci/prepare-dirs.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports zap-reports
chmod 0777 zap-reports
echo "prepare-dirs: $(pwd)/reports and $(pwd)/zap-reports ready"
