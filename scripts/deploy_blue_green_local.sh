#!/usr/bin/env bash
# Deploy the bank on this host: UAT (one stack, gateway on :5001) or PROD (blue/green behind the
# gateway on :5002, protocol of DESIGN.md §5). Parameters are environment variables:
#
#   TARGET=uat|prod            which stack (default uat)
#   MODE=build|image           build the images here, or pull IMAGE_NAME-{web,transactions}:IMAGE_TAG
#                              (default build)
#   IMAGE_NAME, IMAGE_TAG      required with MODE=image (e.g. ghcr.io/owner/fintech-test, a SHA)
#   ACTION=deploy|rollback     default deploy. PROD rollback flips back to the previous colour
#                              (restarted from its kept images if stopped); with MODE=image and
#                              IMAGE_TAG_PREVIOUS it deploys that tag instead (UAT: only this form)
#   IMAGE_TAG_PREVIOUS         tag to roll back to (MODE=image)
#   RUN_SMOKE=true|false       smoke checks after the deploy (k6 when installed, curl otherwise);
#                              default false
#   PRUNE_UAT=true|false       UAT: remove dangling images after the deploy; default false
#   STOP_OLD_COLOR=true|false  PROD: stop the old colour once drained (default true); false keeps
#                              it running so that a rollback is an instant flip
#   NODE_IMAGE, POSTGRES_IMAGE, NGINX_IMAGE   base images (MODE=build); default: the official
#                              ones, or scripts/offline-base-images.sh's where Docker Hub is unreachable
#   HEALTH_TIMEOUT=120         seconds to wait for the new version to be ready
#   DRAIN_TIMEOUT=30           PROD: seconds to wait for the old gateway workers to finish
#   REGISTRY_USER/REGISTRY_PASSWORD   docker login (MODE=image) only when both are set
#   ENV_FILE                   env file of the services (default compose/.env.<target>, created
#                              from its .example with generated secrets when absent)
#   DEPLOY_TEST_UPSTREAM_HOST  test only: host written into the gateway's upstream instead of
#                              web_<colour> (the e2e tests use a name nginx cannot resolve to prove
#                              that `nginx -t` refuses a broken config)
#
# Exit codes: 0 deployed; 1 deploy failed (diagnostics printed; in PROD the colour that was serving
# still serves); 2 bad input, nothing touched; 3 another deploy of the same target is running.
#
# Examples:
#   TARGET=prod MODE=build ./scripts/deploy_blue_green_local.sh      # flips blue <-> green
#   TARGET=prod ACTION=rollback ./scripts/deploy_blue_green_local.sh # back to the previous colour
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/compose.sh
source "$ROOT_DIR/scripts/lib/compose.sh"
# shellcheck source=scripts/ci/lib.sh
source "$ROOT_DIR/scripts/ci/lib.sh"
# shellcheck source=scripts/lib/deploy_common.sh
source "$ROOT_DIR/scripts/lib/deploy_common.sh"
# shellcheck source=scripts/lib/deploy_prod.sh
source "$ROOT_DIR/scripts/lib/deploy_prod.sh"

TARGET="${TARGET:-uat}"
MODE="${MODE:-build}"
ACTION="${ACTION:-deploy}"
IMAGE_NAME="${IMAGE_NAME:-}"
IMAGE_TAG="${IMAGE_TAG:-}"
IMAGE_TAG_PREVIOUS="${IMAGE_TAG_PREVIOUS:-}"
RUN_SMOKE="${RUN_SMOKE:-false}"
PRUNE_UAT="${PRUNE_UAT:-false}"
STOP_OLD_COLOR="${STOP_OLD_COLOR:-true}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-30}"
DEPLOY_TEST_UPSTREAM_HOST="${DEPLOY_TEST_UPSTREAM_HOST:-}"
# Seconds of "Connection: close" before the reload, and public answers required from the new colour.
DRAIN_NOTICE="${DRAIN_NOTICE:-1}"
CONFIRM_COUNT="${CONFIRM_COUNT:-5}"
CONFIRM_TIMEOUT="${CONFIRM_TIMEOUT:-10}"
UAT_URL="http://localhost:5001"
PROD_URL="http://localhost:5002"

validate_parameters
START_MS="$(now_ms)"
acquire_lock
cd "$ROOT_DIR"
compose_detect || exit 1
ensure_env_file

uat_main() {
  local uc=(-p bank-uat -f "$ROOT_DIR/compose/docker-compose.uat.yml")
  use_base_images
  if [[ "$MODE" == image ]]; then
    local tag="$IMAGE_TAG"
    [[ "$ACTION" == rollback ]] && tag="$IMAGE_TAG_PREVIOUS"
    export IMAGE_NAME IMAGE_TAG="$tag"
    registry_login
    log "pulling $IMAGE_NAME-{web,transactions,gateway}:$tag"
    compose "${uc[@]}" pull web transactions gateway >&2 || die "image pull failed"
  else
    log "building UAT images"
    compose "${uc[@]}" build >&2 || die "image build failed"
  fi
  compose "${uc[@]}" up -d --no-build --remove-orphans >&2 || die "compose up failed"
  if ! "$ROOT_DIR/scripts/wait_for_http.sh" "$UAT_URL/health" "$HEALTH_TIMEOUT" 1; then
    compose "${uc[@]}" ps >&2 || true
    compose "${uc[@]}" logs --tail 60 >&2 || true
    die "UAT is not healthy on $UAT_URL/health"
  fi
  if is_true "$RUN_SMOKE"; then
    run_smoke "$UAT_URL" || die "smoke checks failed on $UAT_URL"
  fi
  if is_true "$PRUNE_UAT"; then
    docker image prune -f >&2 || true
  fi
  log "UAT $ACTION done in $(elapsed_s "$START_MS")s: $UAT_URL"
}

case "$TARGET" in
  uat) uat_main ;;
  prod) prod_main ;;
esac
