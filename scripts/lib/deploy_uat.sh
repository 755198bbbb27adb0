#!/usr/bin/env bash
# UAT for scripts/deploy_blue_green_local.sh (sourced, not run): one stack (-p bank-uat), the
# gateway on :5001. The release is pulled or built before the stack is touched; `compose up` is
# watched so that a container that exits or restarts fails the deploy within seconds.

readonly UAT_PROJECT="bank-uat"
# https://localhost:5001 with GATEWAY_TLS=on (set by the deploy script: scripts/gateway-tls.sh).
UAT_URL="http://localhost:5001"

# Compose on UAT's project and file.
uat_compose() { compose -p "$UAT_PROJECT" -f "$ROOT_DIR/compose/docker-compose.uat.yml" "$@"; }

uat_diagnostics() {
  log "diagnostics: compose ps"
  uat_compose ps -a >&2 || true
  log "diagnostics: last logs"
  uat_compose logs --no-color --tail 60 >&2 || true
}

# `compose up -d`, failing fast on a crashed container instead of waiting for the health checks
# of the services that depend on it.
uat_up() {
  local crash pid
  "${COMPOSE_ARGV[@]}" -p "$UAT_PROJECT" -f "$ROOT_DIR/compose/docker-compose.uat.yml" \
    up -d --no-build --remove-orphans >&2 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if crash="$(crashed_service "$UAT_PROJECT" transactions web gateway)"; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      report_crash "$crash"
      uat_diagnostics
      die "UAT: ${crash%% *} does not stay up"
    fi
    sleep 1
  done
  wait "$pid" || {
    uat_diagnostics
    die "compose up failed"
  }
}

uat_main() {
  local tag="$IMAGE_TAG"
  [[ "$ACTION" == rollback ]] && tag="$IMAGE_TAG_PREVIOUS"
  if [[ "$MODE" == image ]]; then
    pull_release "$IMAGE_NAME" "$tag" web transactions gateway
  elif [[ "$ACTION" == rollback ]]; then
    require_local_release "$IMAGE_NAME" "$tag" web transactions gateway
  fi
  use_base_images # the database's image, and the Node and Nginx ones of a build
  export IMAGE_TAG="$tag"
  if [[ "$MODE" == build && "$ACTION" == deploy ]]; then
    log "building UAT images $(release_image "$IMAGE_NAME" "$tag" '{web,transactions,gateway}')"
    uat_compose build >&2 || die "image build failed"
  fi
  gateway_tls_install uat_compose run --rm --no-deps -T --entrypoint gateway-tls-install gateway ||
    die "the certificate could not be installed in the gateway's volume"
  note_restart_counts "$UAT_PROJECT" transactions web gateway
  uat_up
  if ! "$ROOT_DIR/scripts/wait_for_http.sh" "$UAT_URL/health" "$HEALTH_TIMEOUT" 1 >&2; then
    uat_diagnostics
    die "UAT is not healthy on $UAT_URL/health"
  fi
  if is_true "$RUN_SMOKE"; then
    run_smoke "$UAT_URL" || {
      uat_diagnostics
      die "smoke checks failed on $UAT_URL"
    }
  fi
  if is_true "$PRUNE_UAT"; then
    docker image prune -f >&2 || true
  fi
  log "UAT $ACTION done in $(elapsed_s "$START_MS")s: $UAT_URL serves $(release_image "$IMAGE_NAME" "$tag" web)"
}
