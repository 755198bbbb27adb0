#!/usr/bin/env bash
# PROD blue/green for scripts/deploy_blue_green_local.sh (sourced, not run). The protocol is
# DESIGN.md §5: lock (taken by the caller), active colour from the gateway's upstream file, target
# started and health-checked from inside the gateway's network, atomic upstream rewrite checked by
# `nginx -t` then reload, public confirmation, drain, graceful stop of the old colour.

readonly PROD_PROJECT="bank-prod"
readonly PROD_FILE="compose/docker-compose.prod.yml"
readonly DRAIN_FLAG="/etc/nginx/upstream/draining"

pc() { compose -p "$PROD_PROJECT" -f "$ROOT_DIR/$PROD_FILE" "$@"; }

# Compose for one colour: its services run from the local images bank-<service>:prod-<colour>,
# which stay on the host after the colour stops, so a rollback needs no rebuild or pull.
pcc() {
  local colour="$1"
  shift
  IMAGE_NAME=bank IMAGE_TAG="prod-$colour" pc "$@"
}

other_colour() { if [[ "$1" == blue ]]; then echo green; else echo blue; fi; }

colour_image() { printf 'bank-%s:prod-%s' "$1" "$2"; }

# Container id of a compose service (running only, or any state with `all`).
cid() {
  local all=()
  [[ "${2:-}" == all ]] && all=(-a)
  docker ps "${all[@]}" -q --filter "label=com.docker.compose.project=$PROD_PROJECT" \
    --filter "label=com.docker.compose.service=$1" | head -1
}

gateway_running() { [[ -n "$(cid gateway)" ]]; }

gx() { docker exec "$(cid gateway)" "$@"; }

# "host colour" of the active upstream, from the file in the gateway's volume.
active_upstream() { gx set-upstream --current; }

colour_running() { [[ -n "$(cid "web_$1")" && -n "$(cid "transactions_$1")" ]]; }

colour_images_exist() {
  docker image inspect "$(colour_image web "$1")" "$(colour_image transactions "$1")" >/dev/null 2>&1
}

# HTTP status of GET http://HOST:5000PATH from inside the gateway's container (its network and its
# DNS: exactly what nginx will use after the reload). bash's /dev/tcp: the image has no curl.
status_from_gateway() {
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  gx bash -c '
    exec 3<>"/dev/tcp/$1/5000" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3
    read -r -t 3 _ code _ <&3 && printf "%s" "$code"' probe "$1" "$2" 2>/dev/null || true
}

# HTTP status of GET URL from inside a container of the target colour (Node's fetch).
status_from_container() {
  docker exec "$1" node -e "fetch(process.argv[1]).then((r) => console.log(r.status), () => console.log('none'))" "$2" 2>/dev/null || true
}

# Waits until both services of `colour` answer /ready (DB reachable, migrations applied).
wait_colour_ready() {
  local colour="$1" deadline=$((SECONDS + HEALTH_TIMEOUT)) web_status="none" tx_status="none"
  local pause=0.2
  while ((SECONDS < deadline)); do
    local web_id tx_id
    web_id="$(cid "web_$colour")" tx_id="$(cid "transactions_$colour")"
    if [[ -n "$web_id" && -n "$tx_id" ]]; then
      tx_status="$(status_from_container "$web_id" "http://transactions_$colour:5000/ready")"
      if gateway_running; then
        web_status="$(status_from_gateway "web_$colour" /ready)"
      else
        web_status="$(status_from_container "$web_id" "http://web_$colour:5000/ready")"
      fi
      if [[ "$web_status" == 200 && "$tx_status" == 200 ]]; then
        return 0
      fi
    fi
    sleep "$pause"
    pause=1
  done
  log "$colour not ready after ${HEALTH_TIMEOUT}s (web_$colour /ready: ${web_status:-none}, transactions_$colour /ready: ${tx_status:-none})"
  return 1
}

prod_diagnostics() {
  log "diagnostics: compose ps"
  pc ps >&2 || true
  log "diagnostics: last logs"
  local service
  for service in "$@"; do
    [[ -n "$(cid "$service" all)" ]] || continue
    echo "----- $service -----" >&2
    docker logs --tail 40 "$(cid "$service" all)" >&2 2>&1 || true
  done
  if gateway_running; then
    echo "----- gateway upstream -----" >&2
    gx set-upstream --current >&2 || true
  fi
}

# Builds (MODE=build) or pulls (MODE=image) the images of `colour` (plus the gateway's on a cold start).
prepare_images() {
  local colour="$1" tag="$2"
  shift 2
  local services=(web transactions "$@")
  if [[ "$MODE" == build ]]; then
    use_base_images
    log "building images for $colour: ${services[*]}"
    local compose_services=("web_$colour" "transactions_$colour")
    [[ $# -eq 0 ]] || compose_services+=("$@")
    pcc "$colour" build "${compose_services[@]}" >&2 || die "image build failed"
  else
    pull_and_tag "$tag" "prod-$colour" "${services[@]}"
  fi
}

# Runs the one-shot migrate job with `colour`'s image before that colour starts (expand-only
# migrations, then the demo seed if there is no user; see docs/ARCHITECTURE.md). An image of a
# release that still migrates at start-up has no job: nothing to run for it.
migrate_colour() {
  local colour="$1" image
  image="$(colour_image transactions "$colour")"
  if ! docker run --rm --entrypoint node "$image" -e \
    "process.exit(require('node:fs').existsSync('dist/services/jobs/src/cli.js') ? 0 : 1)" >/dev/null 2>&1; then
    log "$image has no migrate job (it migrates at start-up)"
    return 0
  fi
  log "migrating the database with $image"
  pcc "$colour" run --rm --no-deps -T migrate >&2
}

# Starts a colour from its local images (the migrate job has run): transactions first, then web. No ports are published by these services. --remove-orphans drops
# containers no longer defined in the compose file (the other colour is defined, so it stays).
start_colour() {
  local colour="$1"
  pcc "$colour" up -d --no-build --no-deps --remove-orphans "transactions_$colour" >&2
  pcc "$colour" up -d --no-build --no-deps "web_$colour" >&2
}

stop_colour() {
  local colour="$1"
  # SIGTERM: each service stops accepting, finishes its in-flight requests, then exits
  # (compose's stop_grace_period bounds it). The images stay for a rollback.
  pc stop "web_$colour" "transactions_$colour" >&2 || true
}

# Number of nginx workers of a previous configuration still finishing their requests.
old_gateway_workers() {
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  gx bash -c 'n=0; for f in /proc/[0-9]*/cmdline; do
    [[ "$(tr "\0" " " <"$f" 2>/dev/null)" == "nginx: worker process is shutting"* ]] && n=$((n + 1)); done; echo "$n"' 2>/dev/null || echo 0
}

DRAINING=false
drain_flag() {
  if [[ "$1" == on ]]; then
    DRAINING=true
    gx touch "$DRAIN_FLAG"
  else
    gx rm -f "$DRAIN_FLAG" 2>/dev/null || true
    DRAINING=false
  fi
}

# Whatever stops the script (a failure, Ctrl-C), the gateway must not stay in drain mode.
end_drain_on_exit() {
  if [[ "$DRAINING" == true ]] && gateway_running; then
    drain_flag off
  fi
}

# CONFIRM_COUNT consecutive answers of the public port must come from `colour`. The reload is
# asynchronous (old workers answer until the master has started the new ones), so the answers
# are awaited for up to CONFIRM_TIMEOUT seconds.
confirm_public() {
  local colour="$1" streak=0 seen deadline=$((SECONDS + CONFIRM_TIMEOUT))
  while ((streak < CONFIRM_COUNT)); do
    seen="$(curl -sS -o /dev/null -D - --max-time 5 "$PROD_URL/health" 2>/dev/null |
      tr -d '\r' | awk -F': ' 'tolower($1) == "x-app-color" { print $2 }')" || true
    if [[ "$seen" == "$colour" ]]; then
      streak=$((streak + 1))
      continue
    fi
    streak=0
    if ((SECONDS >= deadline)); then
      log "public check: $PROD_URL/health answered by '${seen:-nothing}', expected $colour (for ${CONFIRM_TIMEOUT}s)"
      return 1
    fi
    sleep 0.1
  done
}

# Points the gateway at `colour`, bracketed by the keep-alive drain (see gateway/nginx.conf):
# clients are told "Connection: close" for DRAIN_NOTICE seconds before the reload, so none of
# them sends a request on a keep-alive connection the old workers are about to close.
switch_to() {
  local host="$1" colour="$2"
  drain_flag on
  sleep "$DRAIN_NOTICE"
  if ! gx set-upstream "$host" "$colour" >&2; then
    drain_flag off
    return 1
  fi
}

# Waits (bounded) for the old nginx workers to finish their in-flight requests, then ends the drain.
finish_drain() {
  local deadline=$((SECONDS + DRAIN_TIMEOUT)) left
  while left="$(old_gateway_workers)" && ((left > 0 && SECONDS < deadline)); do
    sleep 0.2
  done
  ((left == 0)) || log "drain: $left old gateway worker(s) still busy after ${DRAIN_TIMEOUT}s"
  drain_flag off
}

# Cold start (no gateway yet): the colour recorded in the gateway's volume, else blue.
prod_cold_start() {
  local colour="blue" recorded
  recorded="$(pcc blue run --rm --no-deps -T --entrypoint set-upstream gateway --current 2>/dev/null | awk '{ print $2 }')" || true
  [[ "$recorded" == blue || "$recorded" == green ]] && colour="$recorded"
  log "cold start: no gateway running; starting $colour"
  use_base_images # the database's image too
  prepare_images "$colour" "$IMAGE_TAG_TO_DEPLOY" gateway
  pcc "$colour" up -d --no-build --no-recreate db >&2
  migrate_colour "$colour" || {
    prod_diagnostics db
    die "$colour never became ready: its migrate job failed"
  }
  start_colour "$colour"
  wait_colour_ready "$colour" || {
    prod_diagnostics "web_$colour" "transactions_$colour" db
    stop_colour "$colour"
    die "$colour never became ready"
  }
  pcc "$colour" up -d --no-build --no-deps gateway >&2
  "$ROOT_DIR/scripts/wait_for_http.sh" "$PROD_URL/health" "$HEALTH_TIMEOUT" 0.2 >/dev/null || {
    prod_diagnostics gateway "web_$colour"
    die "the gateway does not answer on $PROD_URL"
  }
  confirm_public "$colour" || {
    prod_diagnostics gateway "web_$colour"
    die "$PROD_URL is not served by $colour"
  }
  log "PROD cold start done: $colour serves $PROD_URL in $(elapsed_s "$START_MS")s"
}

prod_main() {
  trap end_drain_on_exit EXIT
  IMAGE_TAG_TO_DEPLOY="$IMAGE_TAG"
  [[ "$ACTION" == rollback && -n "$IMAGE_TAG_PREVIOUS" ]] && IMAGE_TAG_TO_DEPLOY="$IMAGE_TAG_PREVIOUS"

  if ! gateway_running; then
    [[ "$ACTION" == deploy ]] || bad_input "rollback: PROD is not running (no gateway), there is no previous colour to go back to"
    prod_cold_start
    return 0
  fi

  local active_host active target
  read -r active_host active < <(active_upstream) || die "cannot read the gateway's upstream file"
  [[ "$active" == blue || "$active" == green ]] || die "unexpected active colour '$active' in the gateway's upstream"
  target="$(other_colour "$active")"

  # Rollback without a tag = flip back to the other colour, which must still exist.
  local restart_only=false
  if [[ "$ACTION" == rollback && -z "$IMAGE_TAG_PREVIOUS" ]]; then
    if colour_running "$target"; then
      restart_only=skip
    elif colour_images_exist "$target"; then
      restart_only=true
    else
      bad_input "rollback: no previous colour to go back to ($target has neither running containers nor kept images)"
    fi
  fi
  log "PROD $ACTION: active $active ($active_host), target $target"

  # 3. Start the target (build or pull first), its migrate job first.
  if [[ "$restart_only" == false ]]; then
    prepare_images "$target" "$IMAGE_TAG_TO_DEPLOY"
  fi
  if [[ "$restart_only" != skip ]]; then
    pcc "$target" up -d --no-build --no-recreate db >&2
    if ! migrate_colour "$target"; then
      prod_diagnostics db
      die "$target never became ready: its migrate job failed; the gateway still routes to $active"
    fi
    start_colour "$target"
  fi

  # 4. Health-check the target from inside the gateway's network.
  if ! wait_colour_ready "$target"; then
    prod_diagnostics "web_$target" "transactions_$target"
    log "stopping $target; the gateway still routes to $active"
    stop_colour "$target"
    die "$target never became ready within ${HEALTH_TIMEOUT}s"
  fi
  log "$target ready $(elapsed_s "$START_MS")s after the deploy started"

  # 5. Atomic upstream rewrite, nginx -t, reload (set-upstream restores the old file on failure).
  local flip_ms
  flip_ms="$(now_ms)"
  if ! switch_to "${DEPLOY_TEST_UPSTREAM_HOST:-web_$target}" "$target"; then
    prod_diagnostics gateway
    stop_colour "$target"
    die "the gateway refused the new upstream; $active keeps serving"
  fi

  # 6. Public confirmation; switch back if it fails.
  if ! confirm_public "$target"; then
    log "switching back to $active"
    switch_to "$active_host" "$active" || log "switching back failed too"
    finish_drain
    prod_diagnostics gateway "web_$target"
    stop_colour "$target"
    die "$PROD_URL did not answer from $target after the switch; back on $active"
  fi
  log "gateway now routes to $target (switch took $(elapsed_s "$flip_ms")s)"

  # 7. Drain the old workers, then stop the old colour gracefully (its images are kept).
  finish_drain
  if is_true "$STOP_OLD_COLOR"; then
    local stop_ms
    stop_ms="$(now_ms)"
    stop_colour "$active"
    log "stopped $active in $(elapsed_s "$stop_ms")s (images kept for rollback)"
  else
    log "$active left running (STOP_OLD_COLOR=false): a rollback is a flip"
  fi

  if is_true "$RUN_SMOKE"; then
    run_smoke "$PROD_URL" || die "smoke checks failed on $PROD_URL"
  fi
  log "PROD $ACTION done: $active -> $target in $(elapsed_s "$START_MS")s"
}
