#!/usr/bin/env bash
# Build the CI stack's images (web, transactions, gateway) with compose, from the official base images
# when they can be pulled, else from the locally built offline ones (see lib.sh: use_base_images).
# Usage: scripts/ci/build-images.sh
set -euo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"

"$CI_ROOT/scripts/docker-engine.sh"
use_base_images
start=$SECONDS
ci_compose build
echo "build-images: built in $((SECONDS - start))s:"
while IFS= read -r image; do
  docker image inspect --format "  $image {{.Size}} bytes" "$image" 2>/dev/null || echo "  $image (not built locally: pulled at start-up)"
done < <(ci_images)
