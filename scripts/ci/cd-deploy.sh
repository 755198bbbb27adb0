#!/usr/bin/env bash
# The CD workflow's deployment step: runs scripts/deploy_blue_green_local.sh with the parameters that
# scripts/ci/cd-params.sh resolved (TARGET, ACTION, MODE, IMAGE_NAME, IMAGE_TAG, IMAGE_TAG_PREVIOUS,
# RUN_SMOKE, PRUNE_UAT, from the environment). Registry login is the workflow's job (MODE=image).
# Usage: TARGET=uat|prod [ACTION=...] [MODE=...] ... scripts/ci/cd-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${TARGET:?TARGET (uat|prod) is required}"
export TARGET ACTION="${ACTION:-deploy}" MODE="${MODE:-build}" RUN_SMOKE="${RUN_SMOKE:-true}" \
  PRUNE_UAT="${PRUNE_UAT:-false}" IMAGE_NAME="${IMAGE_NAME:-}" IMAGE_TAG="${IMAGE_TAG:-}" \
  IMAGE_TAG_PREVIOUS="${IMAGE_TAG_PREVIOUS:-}"
echo "cd-deploy: ACTION=$ACTION TARGET=$TARGET MODE=$MODE IMAGE=${IMAGE_NAME:-local}:${IMAGE_TAG:-} RUN_SMOKE=$RUN_SMOKE PRUNE_UAT=$PRUNE_UAT"
exec scripts/deploy_blue_green_local.sh
