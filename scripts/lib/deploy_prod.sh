#!/usr/bin/env bash
# PROD blue/green for scripts/deploy_blue_green_local.sh (sourced, not run). The protocol
# (docs/CD-PIPELINE.md): lock (taken by the caller), active colour from the gateway's upstream
# file, the release fetched (pull or build) before anything changes, target started and
# health-checked from inside the gateway's network (a crashing container fails it at once),
# atomic upstream rewrite checked by `nginx -t` then reload, public confirmation, smoke checks,
# then the release is recorded and the old colour stopped. Any check that fails after the switch
# switches back first.
#
# A release is <image name>-<service>:<tag>, tagged by what it contains (commit SHA or version),
# never by colour: <state>/prod.releases records the release each colour last served, so a
# rollback (even after a failed deploy that left broken containers in that colour) restarts
# the release that served, not whatever the colour last ran.

readonly PROD_PROJECT="bank-prod"
readonly PROD_FILE="compose/docker-compose.prod.yml"
# https://localhost:5002 with GATEWAY_TLS=on (set by the deploy script: scripts/gateway-tls.sh).
PROD_URL="http://localhost:5002"
readonly DRAIN_FLAG="/etc/nginx/upstream/draining"

# Compose on PROD's project and file; the images are those of IMAGE_NAME and IMAGE_TAG.
prod_compose() { compose -p "$PROD_PROJECT" -f "$ROOT_DIR/$PROD_FILE" "$@"; }

# Compose with the images of one release, whatever this run's IMAGE_NAME and IMAGE_TAG are (a
# rollback or a gateway re-creation runs another release's images):
#   prod_compose_release NAME TAG ARGS...
prod_compose_release() {
  local name="$1" tag="$2"
  shift 2
  IMAGE_NAME="$name" IMAGE_TAG="$tag" prod_compose "$@"
}

other_colour() { if [[ "$1" == blue ]]; then echo green; else echo blue; fi; }

# Id of a PROD service's (first) running container, or with `all` in any state; empty when none.
prod_container() { container_of "$PROD_PROJECT" "$@"; }

# Ids of every running replica of a service.
prod_containers() { containers_of "$PROD_PROJECT" "$1"; }

# Replicas each service of a colour runs (deploy parameters WEB_REPLICAS, TRANSACTIONS_REPLICAS).
replicas_of() { if [[ "$1" == web ]]; then echo "$WEB_REPLICAS"; else echo "$TRANSACTIONS_REPLICAS"; fi; }

# The replica counts of this deploy (deploy_params_keep_replicas holds the rule): each one given,
# else as many containers as `colour`, the live one, runs now; logged with the reason.
resolve_replicas() {
  local colour="$1" var running choices
  for var in WEB_REPLICAS TRANSACTIONS_REPLICAS; do
    running=0
    if [[ -z "${!var}" ]]; then
      running="$(prod_containers "$(deploy_params_replica_service "$var")_$colour" | wc -l)" ||
        die "cannot count the running containers of $colour"
    fi
    deploy_params_keep_replicas "$var" "$colour" "$running"
  done
  printf -v choices '%s, ' "${DEPLOY_REPLICAS_CHOICES[@]}"
  log "replicas: ${choices%, }"
}

# Address of a container on the stack's network (what Docker's DNS gives for its service name).
address_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{ print $1 }'; }

gateway_running() { [[ -n "$(prod_container gateway)" ]]; }

# Runs a command in PROD's running gateway container (set-upstream, the drain flag, probes).
gateway_exec() { docker exec "$(prod_container gateway)" "$@"; }

# "host colour" of the active upstream, from the file in the gateway's volume.
active_upstream() { gateway_exec set-upstream --current; }

# HTTP status of GET http://HOST:5000PATH from inside the gateway's container (its network and its
# DNS: exactly what nginx will use after the reload). bash's /dev/tcp: the image has no curl.
status_from_gateway() {
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  gateway_exec bash -c '
    exec 3<>"/dev/tcp/$1/5000" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3
    read -r -t 3 _ code _ <&3 && printf "%s" "$code"' probe "$1" "$2" 2>/dev/null || true
}

# HTTP status of GET URL from inside a container of the target colour (Node's fetch).
status_from_container() {
  docker exec "$1" node -e "fetch(process.argv[1]).then((r) => console.log(r.status), () => console.log('none'))" "$2" 2>/dev/null || true
}

# How many replicas of `service` answer /ready, by address: transactions from a web container,
# web from the gateway (its network and DNS: what nginx uses after the reload) when it runs.
ready_replicas() {
  local service="$1" colour="$2" web_id="$3" id address status n=0
  for id in $(prod_containers "${service}_$colour"); do
    address="$(address_of "$id")"
    if [[ "$service" == web ]] && gateway_running; then
      status="$(status_from_gateway "$address" /ready)"
    else
      status="$(status_from_container "$web_id" "http://$address:5000/ready")"
    fi
    [[ "$status" == 200 ]] && n=$((n + 1))
  done
  echo "$n"
}

# Waits until every replica of both services of `colour` answers /ready (DB reachable,
# migrations applied). A container that exits or restarts meanwhile fails it at once, naming it.
wait_colour_ready() {
  local colour="$1" deadline=$((SECONDS + HEALTH_TIMEOUT)) web_ready=0 tx_ready=0
  local pause=0.2 crash web_id
  while ((SECONDS < deadline)); do
    if crash="$(crashed_service "$PROD_PROJECT" "transactions_$colour" "web_$colour")"; then
      report_crash "$crash"
      return 1
    fi
    web_id="$(prod_container "web_$colour")"
    if [[ -n "$web_id" ]]; then
      tx_ready="$(ready_replicas transactions "$colour" "$web_id")"
      web_ready="$(ready_replicas web "$colour" "$web_id")"
      if ((web_ready == WEB_REPLICAS && tx_ready == TRANSACTIONS_REPLICAS)); then
        return 0
      fi
    fi
    sleep "$pause"
    pause=1
  done
  log "$colour not ready after ${HEALTH_TIMEOUT}s (/ready answered 200 by $web_ready of $WEB_REPLICAS web_$colour and $tx_ready of $TRANSACTIONS_REPLICAS transactions_$colour replicas)"
  return 1
}

prod_diagnostics() {
  log "diagnostics: compose ps"
  prod_compose ps -a >&2 || true
  log "diagnostics: last logs"
  local service id
  for service in "$@"; do
    for id in $(containers_of "$PROD_PROJECT" "$service" all); do
      echo "----- $service ($id) -----" >&2
      docker logs --tail 40 "$id" >&2 2>&1 || true
    done
  done
  if gateway_running; then
    echo "----- gateway upstream -----" >&2
    gateway_exec set-upstream --current >&2 || true
  fi
}

# Makes a release's images available before anything changes: pulled (MODE=image, or a rollback
# to a tag), built from this checkout (MODE=build deploy), or already here (rollback, build mode).
# Extra arguments: more services than web and transactions (the gateway on a cold start).
fetch_release() {
  local name="$1" tag="$2" source="$3"
  shift 3
  local services=(web transactions "$@")
  case "$source" in
    pull) pull_release "$name" "$tag" "${services[@]}" ;;
    local) require_local_release "$name" "$tag" "${services[@]}" ;;
    build)
      use_base_images
      log "building $(release_image "$name" "$tag" "{${services[*]// /,}}")"
      local compose_services=(web_blue transactions_blue "$@")
      prod_compose_release "$name" "$tag" build "${compose_services[@]}" >&2 || die "image build failed"
      ;;
  esac
}

# Runs the one-shot migrate job with the release's transactions image before a colour of that
# release starts (expand-only migrations, then the demo seed if there is no user; see
# docs/ARCHITECTURE.md). An image of a release that still migrates at start-up has no job.
migrate_release() {
  local name="$1" tag="$2" image
  image="$(release_image "$name" "$tag" transactions)"
  if ! docker run --rm --entrypoint node "$image" -e \
    "process.exit(require('node:fs').existsSync('dist/services/jobs/src/cli.js') ? 0 : 1)" >/dev/null 2>&1; then
    log "$image has no migrate job (it migrates at start-up)"
    return 0
  fi
  log "migrating the database with $image"
  # admin's password on the job's stdin (scripts/lib/prod_users.sh).
  prod_users_migrate prod_compose_release "$name" "$tag" run --rm --no-deps -T migrate
}

# Starts `colour` on a release: the database if it is not running, the release's migrate job,
# then TRANSACTIONS_REPLICAS transactions and WEB_REPLICAS web containers (all replicas of a
# colour start, and later stop, together). No ports are published by these services.
# --remove-orphans drops containers no longer defined in the compose file (the other colour is
# defined, so it stays). A colour already running this release with these replicas is left as it is.
start_colour() {
  local colour="$1" name="$2" tag="$3"
  note_restart_counts "$PROD_PROJECT" "transactions_$colour" "web_$colour"
  if colour_runs "$colour" "$name" "$tag"; then
    log "$colour already runs $tag"
    return 0
  fi
  if ! prod_database_running; then
    prod_compose_release "$name" "$tag" up -d --no-build --no-recreate db >&2 || die "the database did not start"
  fi
  prod_backup_before_migrations "$tag"
  migrate_release "$name" "$tag" || die "the migrate job of $tag failed; nothing else was started"
  prod_compose_release "$name" "$tag" up -d --no-build --no-deps --remove-orphans \
    --scale "transactions_$colour=$TRANSACTIONS_REPLICAS" "transactions_$colour" >&2 ||
    die "transactions_$colour did not start"
  prod_compose_release "$name" "$tag" up -d --no-build --no-deps --scale "web_$colour=$WEB_REPLICAS" "web_$colour" >&2 ||
    die "web_$colour did not start"
}

# True when both services of `colour` run their number of replicas, all from the images of
# release <name> <tag>.
colour_runs() {
  local colour="$1" name="$2" tag="$3" service ids
  for service in web transactions; do
    mapfile -t ids < <(prod_containers "${service}_$colour")
    ((${#ids[@]} == $(replicas_of "$service"))) || return 1
    [[ "$(docker inspect -f '{{.Config.Image}}' "${ids[@]}" | sort -u)" == "$(release_image "$name" "$tag" "$service")" ]] ||
      return 1
  done
}

stop_colour() {
  local colour="$1"
  # SIGTERM to every replica: each stops accepting, finishes its in-flight requests, then exits
  # (compose's stop_grace_period bounds it). The images stay for a rollback.
  prod_compose stop "web_$colour" "transactions_$colour" >&2 || true
}

# Number of nginx workers of a previous configuration still finishing their requests.
old_gateway_workers() {
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  gateway_exec bash -c 'n=0; for f in /proc/[0-9]*/cmdline; do
    [[ "$(tr "\0" " " <"$f" 2>/dev/null)" == "nginx: worker process is shutting"* ]] && n=$((n + 1)); done; echo "$n"' 2>/dev/null || echo 0
}

# true while the drain flag is up in the gateway: end_drain_on_exit (the EXIT trap) takes it down.
DRAINING=false
drain_flag() {
  if [[ "$1" == on ]]; then
    DRAINING=true
    gateway_exec touch "$DRAIN_FLAG"
  else
    gateway_exec rm -f "$DRAIN_FLAG" 2>/dev/null || true
    DRAINING=false
  fi
}

# Whatever stops the script (a failure, Ctrl-C), the gateway must not stay in drain mode.
end_drain_on_exit() {
  if [[ "$DRAINING" == true ]] && gateway_running; then
    drain_flag off
  fi
}

# The public port answers from `colour` (deploy_common.sh: confirm_colour_serves).
confirm_public() { confirm_colour_serves "$PROD_URL" "$1"; }

# Points the gateway at `colour`, bracketed by the keep-alive drain (see gateway/nginx.conf):
# clients are told "Connection: close" for DRAIN_NOTICE seconds before the reload, so none of
# them sends a request on a keep-alive connection the old workers are about to close.
switch_to() {
  local host="$1" colour="$2"
  drain_flag on
  sleep "$DRAIN_NOTICE"
  if ! gateway_exec set-upstream "$host" "$colour" >&2; then
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

# After the switch: smoke checks (RUN_SMOKE) through the public port, and the target's
# containers still up without a restart.
post_switch_checks() {
  local colour="$1" crash
  if is_true "$RUN_SMOKE" && ! run_smoke "$PROD_URL"; then
    return 1
  fi
  if crash="$(crashed_service "$PROD_PROJECT" "transactions_$colour" "web_$colour")"; then
    report_crash "$crash"
    return 1
  fi
}

# A check failed after the switch: back to the colour that served, then exit 1. If even that
# fails (the old colour vanished meanwhile), exit 4: an operator must look.
switch_back_and_die() {
  local active_host="$1" active="$2" target="$3" reason="$4"
  log "$reason; switching back to $active"
  if ! switch_to "$active_host" "$active"; then
    prod_diagnostics gateway "web_$active" "web_$target"
    log "FAILED: $reason, and switching back to $active failed (refused by the gateway): $target still serves $PROD_URL"
    exit 4
  fi
  if ! confirm_public "$active"; then
    prod_diagnostics gateway "web_$active" "web_$target"
    log "FAILED: $reason, and $active does not answer after switching back: $PROD_URL may serve nothing"
    exit 4
  fi
  finish_drain
  prod_diagnostics gateway "web_$target" "transactions_$target"
  stop_colour "$target"
  die "$reason; back on $active, which serves $PROD_URL again"
}

# Cold start (no gateway yet): the colour recorded in the gateway's volume, else blue. On any
# failure PROD is left stopped, as it was.
prod_cold_start() {
  local name="$1" tag="$2" source="$3" colour="blue" recorded
  fetch_release "$name" "$tag" "$source" gateway
  recorded="$(prod_compose_release "$name" "$tag" run --rm --no-deps -T --entrypoint set-upstream gateway --current 2>/dev/null | awk '{ print $2 }')" || true
  [[ "$recorded" == blue || "$recorded" == green ]] && colour="$recorded"
  log "cold start: no gateway running; starting $colour on $tag"
  resolve_replicas "$colour"
  use_base_images # the database's image
  start_colour "$colour" "$name" "$tag"
  wait_colour_ready "$colour" || {
    prod_diagnostics "web_$colour" "transactions_$colour" db
    stop_colour "$colour"
    die "$colour never became ready"
  }
  gateway_tls_install prod_compose_release "$name" "$tag" run --rm --no-deps -T --entrypoint gateway-tls-install gateway ||
    die "the certificate could not be installed in the gateway's volume"
  prod_compose_release "$name" "$tag" up -d --no-build --no-deps gateway >&2 || die "the gateway did not start"
  local failure=""
  if ! "$ROOT_DIR/scripts/wait_for_http.sh" "$PROD_URL/health" "$HEALTH_TIMEOUT" 0.2 >/dev/null; then
    failure="the gateway does not answer on $PROD_URL"
  elif ! confirm_public "$colour"; then
    failure="$PROD_URL is not served by $colour"
  elif ! post_switch_checks "$colour"; then
    failure="checks failed on $PROD_URL"
  fi
  if [[ -n "$failure" ]]; then
    prod_diagnostics gateway "web_$colour" "transactions_$colour"
    prod_compose stop gateway >&2 || true
    stop_colour "$colour"
    die "$failure; PROD stopped again"
  fi
  state_release_record "$colour" "$name" "$tag" only
  log "PROD cold start done: $colour serves $PROD_URL with $tag in $(elapsed_s "$START_MS")s"
}

prod_main() {
  trap end_drain_on_exit EXIT
  # Which release, and where its images come from.
  local name="$IMAGE_NAME" tag="$IMAGE_TAG" source=build
  [[ "$MODE" == image ]] && source=pull
  if [[ "$ACTION" == rollback && -n "$IMAGE_TAG_PREVIOUS" ]]; then
    tag="$IMAGE_TAG_PREVIOUS"
    [[ "$MODE" == image ]] || source=local
  fi

  if ! gateway_running; then
    [[ "$ACTION" == deploy ]] || refuse "rollback: PROD is not running (no gateway), there is no previous release to go back to"
    prod_cold_start "$name" "$tag" "$source"
    return 0
  fi

  local active_host active target
  read -r active_host active < <(active_upstream) || die "cannot read the gateway's upstream file"
  [[ "$active" == blue || "$active" == green ]] || die "unexpected active colour '$active' in the gateway's upstream"
  target="$(other_colour "$active")"

  # A rollback without a tag: the release the other colour last served.
  if [[ "$ACTION" == rollback && -z "$IMAGE_TAG_PREVIOUS" ]]; then
    read -r name tag < <(state_release_of "$target") ||
      refuse "rollback: no previous release to go back to ($target has not served since PROD was started)"
    source=local
  fi
  log "PROD $ACTION: active $active ($active_host), target $target with $(release_image "$name" "$tag" web)"
  if [[ "$ACTION" == rollback ]]; then
    local undone
    read -r _ undone < <(state_release_of "$active") && prod_backup_name_for_rollback "$undone"
  fi
  resolve_replicas "$active"

  # 3. The release's images first (nothing changes if they cannot be had), then the target.
  fetch_release "$name" "$tag" "$source"
  start_colour "$target" "$name" "$tag"

  # 4. Health-check the target from inside the gateway's network.
  if ! wait_colour_ready "$target"; then
    prod_diagnostics "web_$target" "transactions_$target"
    log "stopping $target; the gateway still routes to $active"
    stop_colour "$target"
    die "$target did not become ready; $active keeps serving"
  fi
  log "$target ready $(elapsed_s "$START_MS")s after the deploy started"

  # The gateway's certificate (read at the reload below) and, if GATEWAY_BIND_ADDRESS or
  # GATEWAY_TLS changed, the gateway itself (scripts/gateway-tls.sh).
  gateway_expose_prod "$active" "$name" "$tag" "$source"

  # 5. Atomic upstream rewrite, nginx -t, reload (set-upstream restores the old file on failure).
  local flip_ms
  flip_ms="$(now_ms)"
  if ! switch_to "${DEPLOY_TEST_UPSTREAM_HOST:-web_$target}" "$target"; then
    prod_diagnostics gateway
    stop_colour "$target"
    die "the gateway refused the new upstream; $active keeps serving"
  fi

  # 6. Public confirmation, drain, smoke: any failure switches back.
  confirm_public "$target" ||
    switch_back_and_die "$active_host" "$active" "$target" "$PROD_URL did not answer from $target after the switch"
  log "gateway now routes to $target (switch took $(elapsed_s "$flip_ms")s; $PROD_URL served by $target $(elapsed_s "$START_MS")s after the $ACTION started)"
  finish_drain
  post_switch_checks "$target" ||
    switch_back_and_die "$active_host" "$active" "$target" "checks failed on $PROD_URL after the switch to $target"
  state_release_record "$target" "$name" "$tag"

  # 7. Stop the old colour gracefully (its release stays on the host for a rollback).
  if is_true "$STOP_OLD_COLOR"; then
    local stop_ms
    stop_ms="$(now_ms)"
    stop_colour "$active"
    log "stopped $active in $(elapsed_s "$stop_ms")s (its release stays for a rollback)"
  else
    log "$active left running (STOP_OLD_COLOR=false): a rollback is a flip"
  fi
  log "PROD $ACTION done: $active -> $target ($tag) in $(elapsed_s "$START_MS")s"
}
