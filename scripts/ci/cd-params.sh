#!/usr/bin/env bash
# The CD workflow's parameters: maps the GitHub event and the workflow_dispatch inputs onto the
# deploy parameters, then resolves and checks them with scripts/lib/deploy_params.sh (the same
# defaults and rules as scripts/deploy_blue_green_local.sh), and appends them to $GITHUB_ENV
# (prints them as KEY=value lines when GITHUB_ENV is not set).
#
# Usage (the workflow passes inputs through the environment, never through ${{ }} in a script):
#   TARGET=uat|prod [ACTION=deploy|rollback] [INPUT_MODE=build|image] [INPUT_IMAGE_NAME=...]
#   [INPUT_IMAGE_TAG=...] [INPUT_IMAGE_TAG_PREVIOUS=...] [INPUT_RUN_SMOKE=true|false]
#   [INPUT_PRUNE_UAT=true|false] [INPUT_WEB_REPLICAS=1-8] [INPUT_TRANSACTIONS_REPLICAS=1-8]
#   [INPUT_PLATFORM=compose|swarm]
#   scripts/ci/cd-params.sh
# Replicas (containers per service and colour) apply to PROD; UAT runs 1 and refuses more. An
# empty PROD count stays empty in $GITHUB_ENV: this step may run on GitHub's runner, where PROD
# cannot be seen, so the deploy resolves it on the host to what the live colour runs now.
# What the event adds: IMAGE_NAME defaults to ghcr.io/<owner>/<repo> (lower case, from
# GITHUB_REPOSITORY) in MODE=image; IMAGE_TAG to the version on a tag (GITHUB_REF_TYPE=tag,
# e.g. v1.2.0), else to the checked-out commit's SHA. These are the names CI publishes.
# Exit 2 on an invalid value, with one line naming it (the deployment does not start).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/deploy_params.sh
source scripts/lib/deploy_params.sh
DEPLOY_NAME="cd-params"

MODE="${INPUT_MODE:-}"
IMAGE_NAME="${INPUT_IMAGE_NAME:-}"
if [[ -z "$IMAGE_NAME" && "$MODE" == image ]]; then
  [[ -n "${GITHUB_REPOSITORY:-}" ]] || deploy_params_refuse "MODE=image needs INPUT_IMAGE_NAME or GITHUB_REPOSITORY"
  IMAGE_NAME="ghcr.io/${GITHUB_REPOSITORY,,}"
fi
IMAGE_TAG="${INPUT_IMAGE_TAG:-}"
if [[ -z "$IMAGE_TAG" && "${GITHUB_REF_TYPE:-}" == tag ]]; then
  IMAGE_TAG="${GITHUB_REF_NAME:-}"
fi
IMAGE_TAG_PREVIOUS="${INPUT_IMAGE_TAG_PREVIOUS:-}"
RUN_SMOKE="${INPUT_RUN_SMOKE:-}"
PRUNE_UAT="${INPUT_PRUNE_UAT:-}"
WEB_REPLICAS="${INPUT_WEB_REPLICAS:-}"
TRANSACTIONS_REPLICAS="${INPUT_TRANSACTIONS_REPLICAS:-}"
PLATFORM="${INPUT_PLATFORM:-}"

deploy_params_resolve "$PWD"
if [[ -n "${GITHUB_ENV:-}" ]]; then deploy_params_print >>"$GITHUB_ENV"; else deploy_params_print; fi
echo "cd-params: $ACTION $TARGET, PLATFORM=$PLATFORM, MODE=$MODE, release $IMAGE_NAME-*:${IMAGE_TAG_PREVIOUS:-$IMAGE_TAG}, RUN_SMOKE=$RUN_SMOKE, replicas web ${WEB_REPLICAS:-as PROD runs now} transactions ${TRANSACTIONS_REPLICAS:-as PROD runs now}" >&2
