#!/usr/bin/env bash
# PROD blue/green on Docker Swarm (TARGET=prod PLATFORM=swarm) for
# scripts/deploy_blue_green_local.sh (sourced, not run). Same protocol as the Compose path
# (scripts/lib/deploy_prod.sh), on the stack deploy/swarm/docker-stack.prod.yml:
#   1. the release's images are built (or pulled) here, then pushed to the cluster's registry so
#      that every node runs the same digest;
#   2. the database, then a backup of it (scripts/db-backup.sh, when it has a schema), then the
#      release's migrate job (a Swarm job, once), then the target colour with `docker stack
#      deploy` (the live colour's services are passed as they are: unchanged);
#   3. wait until every replica of the target is running and healthy (its /ready healthcheck) and
#      answers /ready from the gateway's container; a task that fails meanwhile fails the deploy
#      at once, naming it, and the target goes back to what it was;
#   4. the flip: set-upstream in the gateway's container (nginx -t, reload) bracketed by the
#      keep-alive drain, then X-App-Color checked on the public port, then the smoke checks; a
#      check that fails switches back;
#   5. the previous colour keeps running out of the upstream, so that a rollback (ACTION=rollback:
#      back to the other colour, whatever release it runs) is a switch; STOP_PREVIOUS=true scales
#      it to 0 instead, and a rollback then starts it again first.
# Docker commands run on the manager (swarm_docker, scripts/lib/swarm_manager.sh): `docker exec
# bank-node-1 docker ...` for the local cluster of scripts/cluster.sh (CLUSTER_MANAGER names another
# container).

SWARM_URL="http://127.0.0.1:${CLUSTER_GATEWAY_PORT:-5012}"
# The registry as the nodes reach it, and as this host pushes to it (scripts/cluster.sh).
SWARM_REGISTRY="${CLUSTER_REGISTRY:-bank-cluster-registry:5000}"
SWARM_REGISTRY_PUSH="${CLUSTER_REGISTRY_PUSH:-127.0.0.1:${CLUSTER_REGISTRY_PORT:-5015}}"
SWARM_STACK_FILE="$ROOT_DIR/deploy/swarm/docker-stack.prod.yml"
SWARM_DRAIN_FLAG=/etc/nginx/upstream/draining
# Keep the previous colour running after a flip (false), or scale it to 0 (true).
SWARM_STOP_PREVIOUS="${STOP_PREVIOUS:-false}"

swarm_other_colour() { if [[ "$1" == blue ]]; then echo green; else echo blue; fi; }

swarm_require_cluster() {
  if [[ "$(swarm_docker info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null)" != true ]]; then
    printf '%s: the cluster is not up (no swarm manager answers in container %s); start it with scripts/cluster.sh up\n' \
      "$DEPLOY_NAME" "$SWARM_MANAGER" >&2
    exit 1
  fi
}

# The gateway's container on the manager (the node labelled gateway=true), looked up once: every
# docker exec costs a round trip through the node.
SWARM_GATEWAY_CONTAINER=""
swarm_find_gateway() {
  SWARM_GATEWAY_CONTAINER="$(swarm_docker ps -q --filter "label=com.docker.swarm.service.name=${SWARM_STACK}_gateway" \
    --filter status=running 2>/dev/null | head -1 || true)"
}
swarm_gateway_container() { printf '%s' "$SWARM_GATEWAY_CONTAINER"; }

# Runs a command in the Swarm gateway's container (swarm_find_gateway found it); fails when none.
swarm_gateway_exec() {
  local container
  container="$(swarm_gateway_container)"
  [[ -n "$container" ]] || return 1
  swarm_docker exec "$container" "$@"
}

# The stack's variables: the colours' images and replicas, the gateway's. Filled from the live
# services, then changed for the target colour only.
declare -gA SWARM_VARS=()
# --env options of the migrate job: the env file's settings the seed needs (set by swarm_main).
SWARM_JOB_ENV=()
swarm_read_stack() {
  local ids name image replicas env key
  for key in BLUE_WEB BLUE_TRANSACTIONS GREEN_WEB GREEN_TRANSACTIONS; do
    SWARM_VARS[${key}_IMAGE]="" SWARM_VARS[${key}_REPLICAS]=""
  done
  SWARM_VARS[GATEWAY_IMAGE]="" SWARM_VARS[GATEWAY_REPLICAS]="" SWARM_VARS[GATEWAY_UPSTREAM_HOST]="" SWARM_VARS[DB_IMAGE]=""
  # After scripts/db-promote.sh: the primary at 0 replicas, the standby under the name db.
  SWARM_VARS[DB_REPLICAS]=1 SWARM_VARS[DB_STANDBY_ALIAS]=db_standby
  ids="$(swarm_docker service ls -q --filter "label=com.docker.stack.namespace=$SWARM_STACK" 2>/dev/null | tr '\n' ' ' || true)"
  [[ -n "${ids// /}" ]] || return 0
  # shellcheck disable=SC2086 # one id per word
  while IFS='|' read -r name image replicas env aliases; do
    name="${name#"${SWARM_STACK}"_}"
    case "$name" in
      web_* | transactions_*)
        local colour="${name##*_}" service="${name%_*}"
        SWARM_VARS[${colour^^}_${service^^}_IMAGE]="$image"
        SWARM_VARS[${colour^^}_${service^^}_REPLICAS]="$replicas"
        ;;
      gateway)
        SWARM_VARS[GATEWAY_IMAGE]="$image" SWARM_VARS[GATEWAY_REPLICAS]="$replicas"
        SWARM_VARS[GATEWAY_UPSTREAM_HOST]="$(tr ',' '\n' <<<"$env" | sed -n 's/^GATEWAY_UPSTREAM_HOST=//p')"
        ;;
      db) SWARM_VARS[DB_IMAGE]="$image" SWARM_VARS[DB_REPLICAS]="$replicas" ;;
      db_standby) [[ ",$aliases" != *,db,* ]] || SWARM_VARS[DB_STANDBY_ALIAS]=db ;;
    esac
  done < <(swarm_docker service inspect -f '{{.Spec.Name}}|{{.Spec.TaskTemplate.ContainerSpec.Image}}|{{.Spec.Mode.Replicated.Replicas}}|{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{.}},{{end}}|{{range .Spec.TaskTemplate.Networks}}{{range .Aliases}}{{.}},{{end}}{{end}}' $ids 2>/dev/null || true)
}

# `docker stack deploy` with SWARM_VARS (the docker client interpolates the stack file: on this
# host through the socket, else inside the manager's container). A service Swarm is still
# updating or rolling back answers "update out of sequence": tried again, three times at most.
swarm_stack_deploy() {
  local key env=() attempt output
  for key in "${!SWARM_VARS[@]}"; do env+=("$key=${SWARM_VARS[$key]}"); done
  for attempt in 1 2 3; do
    if swarm_socket_usable; then
      output="$(env "${env[@]}" DOCKER_HOST="unix://$SWARM_SOCKET" docker stack deploy --prune=false \
        --resolve-image always -c - "$SWARM_STACK" <"$SWARM_STACK_FILE" 2>&1)" && return 0
    else
      output="$(docker exec -i "${env[@]/#/--env=}" "$SWARM_MANAGER" docker stack deploy --prune=false \
        --resolve-image always -c - "$SWARM_STACK" <"$SWARM_STACK_FILE" 2>&1)" && return 0
    fi
    log "docker stack deploy (attempt $attempt): $(printf '%s' "$output" | grep -v '^Updating\|^Creating' | tail -n 2 | tr '\n' ' ')"
    sleep 2
  done
  return 1
}

# Docker secrets from the env file, created once (a secret cannot change; rotating one means a
# new name). Values go through stdin only, never on a command line.
swarm_secrets_ensure() {
  local pair name key value existing
  existing=" $(swarm_docker secret ls --format '{{.Name}}' | tr '\n' ' ') "
  for pair in bank_postgres_password:POSTGRES_PASSWORD bank_database_url:DATABASE_URL \
    bank_secret_key:SECRET_KEY bank_service_signing_secret:SERVICE_SIGNING_SECRET; do
    name="${pair%%:*}" key="${pair#*:}"
    [[ "$existing" != *" $name "* ]] || continue
    value="$(sed -n "s/^$key=//p" "$ENV_FILE" | tail -1)"
    [[ -n "$value" ]] || die "$key is missing from $ENV_FILE"
    printf '%s' "$value" | swarm_docker secret create "$name" - >/dev/null || die "cannot create the Docker secret $name"
    log "Docker secret $name created from $key"
  done
}

# The release's images on the cluster's registry; prints the nodes' references as
# "web_ref transactions_ref gateway_ref", each pinned to the digest pushed (as Swarm pins a spec's
# image), so that a colour already running this very release is recognised.
swarm_push_release() {
  local name="$1" tag="$2" service source target digest refs=()
  for service in web transactions gateway; do
    source="$(release_image "$name" "$tag" "$service")"
    target="$(release_image "${name##*/}" "$tag" "$service")"
    if ! docker tag "$source" "$SWARM_REGISTRY_PUSH/$target" || ! docker push -q "$SWARM_REGISTRY_PUSH/$target" >/dev/null; then
      die "cannot push $source to the cluster's registry $SWARM_REGISTRY_PUSH"
    fi
    digest="$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$SWARM_REGISTRY_PUSH/$target" |
      sed -n "s|^$SWARM_REGISTRY_PUSH/${target%:*}@||p" | head -1)"
    docker rmi "$SWARM_REGISTRY_PUSH/$target" >/dev/null 2>&1 || true
    refs+=("$SWARM_REGISTRY/$target${digest:+@$digest}")
  done
  echo "${refs[*]}"
}

# PostgreSQL's image on the registry too (the nodes reach no other).
swarm_push_db_image() {
  use_base_images
  local source="${POSTGRES_IMAGE:-postgres:16}" target="bank-db:16"
  image_available "$source" || die "no PostgreSQL image $source"
  if ! docker tag "$source" "$SWARM_REGISTRY_PUSH/$target" || ! docker push -q "$SWARM_REGISTRY_PUSH/$target" >/dev/null; then
    die "cannot push $source to the cluster's registry $SWARM_REGISTRY_PUSH"
  fi
  docker rmi "$SWARM_REGISTRY_PUSH/$target" >/dev/null 2>&1 || true
  echo "$SWARM_REGISTRY/$target"
}

# The migrate job of a release, as a Swarm job on the stack's network, once, before the colour
# that runs the release starts; waits for the database first.
swarm_migrate() {
  local image="$1" deadline=$((SECONDS + HEALTH_TIMEOUT)) states job="${SWARM_STACK}_migrate"
  until [[ -n "$(db_container prod)" ]]; do
    ((SECONDS < deadline)) || die "the database is not running after ${HEALTH_TIMEOUT}s"
    sleep 1
  done
  swarm_docker service rm "$job" >/dev/null 2>&1 || true
  log "migrating the database with $image (Swarm job $job)"
  swarm_docker service create --detach --name "$job" --mode replicated-job --label "com.docker.stack.namespace=$SWARM_STACK" \
    --network "${SWARM_STACK}_net" --secret bank_database_url --restart-condition on-failure \
    --restart-delay 2s --restart-max-attempts 5 \
    --env NODE_ENV=production --env DATABASE_URL_FILE=/run/secrets/bank_database_url "${SWARM_JOB_ENV[@]}" \
    "$image" node dist/services/jobs/src/cli.js migrate seed >/dev/null || die "cannot create the migrate job"
  while :; do
    states="$(swarm_docker service ps "$job" --format '{{.CurrentState}}' 2>/dev/null || true)"
    if grep -q '^Complete' <<<"$states"; then
      swarm_docker service rm "$job" >/dev/null 2>&1 || true
      return 0
    fi
    if (($(grep -c '^Failed' <<<"$states" || true) >= 5)) || ((SECONDS >= deadline)); then
      swarm_docker service logs --tail 20 --raw "$job" >&2 2>&1 || true
      swarm_docker service rm "$job" >/dev/null 2>&1 || true
      die "the migrate job of $image failed; nothing else was started"
    fi
    sleep 1
  done
}

# Task ids a service had before this deploy: a failure among them is old news, not a crash.
declare -gA SWARM_TASKS_BEFORE=()
swarm_note_tasks() {
  local id
  while read -r id; do SWARM_TASKS_BEFORE[$id]=1; done < <(swarm_docker service ps -q "${@/#/${SWARM_STACK}_}" 2>/dev/null || true)
}

# One look at the services' tasks (a single `docker service ps` for all of them): sets
# SWARM_CRASH to "<service> <task id> <state: error>" of the first task that failed since
# swarm_note_tasks, or of a service whose update Swarm rolls back, and SWARM_RUNNING[service] to
# the number of its tasks running (healthy) the image SWARM_WANT_IMAGE[service] names, when set:
# during a start-first update the previous release's tasks run on until the new ones are up, and
# must not be counted as the new release being ready.
declare -gA SWARM_RUNNING=() SWARM_WANT_IMAGE=()
SWARM_CRASH=""
swarm_look() {
  local name id desired state error image want service update
  SWARM_CRASH="" SWARM_RUNNING=()
  for service in "$@"; do SWARM_RUNNING[$service]=0; done
  while IFS='|' read -r name id desired state error image; do
    service="${name%%.*}" service="${service#"${SWARM_STACK}"_}"
    want="${SWARM_WANT_IMAGE[$service]:-}"
    # Swarm pins the registry's digest: "<image>@sha256:…" runs what "<image>" named.
    if [[ "$desired" == Running && "$state" == Running* ]] &&
      [[ -z "$want" || "$image" == "$want" || "$image" == "$want@"* ]]; then
      SWARM_RUNNING[$service]=$((${SWARM_RUNNING[$service]:-0} + 1))
    fi
    if [[ -z "$SWARM_CRASH" && -z "${SWARM_TASKS_BEFORE[$id]:-}" && "$state" =~ ^(Failed|Rejected) ]]; then
      SWARM_CRASH="$service $id ${state%% *}: ${error:-no error given}"
    fi
  done < <(swarm_docker service ps --no-trunc --format '{{.Name}}|{{.ID}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}|{{.Image}}' \
    "${@/#/${SWARM_STACK}_}" 2>/dev/null || true)
  [[ -z "$SWARM_CRASH" ]] || return 0
  while read -r service update; do
    if [[ "$update" =~ ^(rollback_|paused) ]]; then SWARM_CRASH="${service#"${SWARM_STACK}"_} - update $update"; fi
  done < <(swarm_docker service inspect -f '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "${@/#/${SWARM_STACK}_}" 2>/dev/null || true)
}

swarm_report_crash() {
  local service id rest source
  read -r service id rest <<<"$1"
  log "${service} crashed: task $id ($rest); its last log lines:"
  # The failed task's own lines: the service's would be those of the replicas still running.
  source="$id"
  [[ "$id" != - ]] || source="${SWARM_STACK}_$service"
  SWARM_DOCKER_TIMEOUT=15 swarm_docker service logs --tail "${CRASH_LOG_LINES:-20}" --raw \
    "$source" 2>&1 | tail -n "${CRASH_LOG_LINES:-20}" | sed "s/^/  $service | /" >&2 || true
}

# Replicas of `service` that answer GET /ready with 200, probed from the gateway's container (its
# network and Docker's DNS: what nginx uses after the reload), by task address.
swarm_ready_from_gateway() {
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  swarm_gateway_exec bash -c 'n=0
    for address in $(getent ahostsv4 "$1" | awk "{ print \$1 }" | sort -u); do
      code=""
      if exec 3<>"/dev/tcp/$address/5000"; then
        printf "GET /ready HTTP/1.0\r\nHost: %s\r\n\r\n" "$address" >&3
        read -r -t 3 _ code _ <&3 || true
        exec 3<&-
      fi
      [[ "$code" == 200 ]] && n=$((n + 1))
    done
    echo "$n"' probe "$1" 2>/dev/null || echo 0
}

# Every replica of both services of `colour` running the release set for it, healthy; with a
# gateway, every web replica answering /ready from it. A task that fails meanwhile fails it at once.
swarm_wait_ready() {
  local colour="$1" web="$2" tx="$3" deadline=$((SECONDS + HEALTH_TIMEOUT)) ready
  SWARM_WANT_IMAGE=([web_$colour]="${SWARM_VARS[${colour^^}_WEB_IMAGE]}" [transactions_$colour]="${SWARM_VARS[${colour^^}_TRANSACTIONS_IMAGE]}")
  while ((SECONDS < deadline)); do
    swarm_look "transactions_$colour" "web_$colour"
    if [[ -n "$SWARM_CRASH" ]]; then
      swarm_report_crash "$SWARM_CRASH"
      return 1
    fi
    local run_web="${SWARM_RUNNING[web_$colour]}" run_tx="${SWARM_RUNNING[transactions_$colour]}"
    if ((run_web == web && run_tx == tx)); then
      [[ -n "$(swarm_gateway_container)" ]] || return 0
      ready="$(swarm_ready_from_gateway "web_$colour")"
      ((ready == web)) && return 0
    fi
    sleep 1
  done
  log "$colour not ready after ${HEALTH_TIMEOUT}s (running and healthy: web_$colour ${SWARM_RUNNING[web_$colour]:-0} of $web, transactions_$colour ${SWARM_RUNNING[transactions_$colour]:-0} of $tx)"
  return 1
}

swarm_diagnostics() {
  log "diagnostics: tasks by node"
  "$ROOT_DIR/scripts/cluster.sh" status >&2 2>&1 || swarm_docker service ls >&2 || true
}

# The cluster's public port answers from `colour` (deploy_common.sh: confirm_colour_serves).
swarm_confirm_public() { confirm_colour_serves "$SWARM_URL" "$1"; }

# true while the drain flag may be up in the gateway: the EXIT trap takes it down.
SWARM_DRAINING=false
# Seconds from the start of the run to the public URL answering from the new colour, set by
# swarm_switch_to for swarm_main's log line.
SWARM_SERVED_AFTER=""
swarm_end_drain_on_exit() {
  if [[ "$SWARM_DRAINING" == true ]]; then swarm_gateway_exec rm -f "$SWARM_DRAIN_FLAG" >/dev/null 2>&1 || true; fi
}

# The flip, as on Compose: "Connection: close" for DRAIN_NOTICE seconds, set-upstream (nginx -t,
# reload; the old file is kept on failure), X-App-Color confirmed, old workers drained. Two
# docker exec in all: each one is a round trip through the node.
swarm_switch_to() {
  local colour="$1"
  SWARM_DRAINING=true
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  if ! swarm_gateway_exec bash -c 'touch "$1" && sleep "$2" && set-upstream "$3" "$4" || { rm -f "$1"; exit 1; }' \
    switch "$SWARM_DRAIN_FLAG" "$DRAIN_NOTICE" "${DEPLOY_TEST_UPSTREAM_HOST:-web_$colour}" "$colour" >&2; then
    SWARM_DRAINING=false
    return 1
  fi
  swarm_confirm_public "$colour" || return 1
  # When the public URL answered from the colour, before the old workers' drain below.
  SWARM_SERVED_AFTER="$(elapsed_s "$START_MS")"
  # shellcheck disable=SC2016 # expanded by the bash inside the gateway container
  swarm_gateway_exec bash -c 'deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
      n=0
      for f in /proc/[0-9]*/cmdline; do
        [[ "$(tr "\0" " " <"$f" 2>/dev/null)" == "nginx: worker process is shutting"* ]] && n=$((n + 1))
      done
      ((n == 0)) && break
      sleep 0.2
    done
    rm -f "$1"' drain "$SWARM_DRAIN_FLAG" "$DRAIN_TIMEOUT" || true
  SWARM_DRAINING=false
}

# Sets the target colour's images and replicas in SWARM_VARS.
swarm_set_colour() {
  local colour="${1^^}" web_image="$2" tx_image="$3" web="$4" tx="$5"
  SWARM_VARS[${colour}_WEB_IMAGE]="$web_image"
  SWARM_VARS[${colour}_TRANSACTIONS_IMAGE]="$tx_image"
  SWARM_VARS[${colour}_WEB_REPLICAS]="$web"
  SWARM_VARS[${colour}_TRANSACTIONS_REPLICAS]="$tx"
}

swarm_main() {
  # shellcheck disable=SC2153 # TARGET comes from deploy_params_resolve
  [[ "$TARGET" == prod ]] || refuse "PLATFORM=swarm deploys TARGET=prod only (UAT runs on Compose)"
  swarm_require_cluster
  trap swarm_end_drain_on_exit EXIT
  local name="$IMAGE_NAME" tag="${IMAGE_TAG_PREVIOUS:-$IMAGE_TAG}" source=build
  [[ "$MODE" == image ]] && source=pull
  [[ "$ACTION" == rollback && -n "$IMAGE_TAG_PREVIOUS" && "$MODE" == build ]] && source=local

  swarm_read_stack
  local db_runs=false
  [[ -z "${SWARM_VARS[DB_IMAGE]:-}" ]] || db_runs=true
  local active=""
  swarm_find_gateway
  if [[ -n "$(swarm_gateway_container)" ]]; then
    read -r _ active < <(swarm_gateway_exec set-upstream --current) || die "cannot read the gateway's upstream file"
  fi
  local target=blue
  [[ -n "$active" ]] && target="$(swarm_other_colour "$active")"
  local before_web_image="${SWARM_VARS[${target^^}_WEB_IMAGE]}" before_tx_image="${SWARM_VARS[${target^^}_TRANSACTIONS_IMAGE]}"
  local before_web="${SWARM_VARS[${target^^}_WEB_REPLICAS]:-0}" before_tx="${SWARM_VARS[${target^^}_TRANSACTIONS_REPLICAS]:-0}"

  # Replicas: given, else what the live colour runs (spec), else 1.
  local var running service
  for var in WEB_REPLICAS TRANSACTIONS_REPLICAS; do
    service="$(deploy_params_replica_service "$var")"
    running=0
    [[ -n "$active" ]] && running="${SWARM_VARS[${active^^}_${service^^}_REPLICAS]:-0}"
    deploy_params_keep_replicas "$var" "${active:-$target}" "$running"
  done

  local web_image tx_image gateway_image
  if [[ "$ACTION" == rollback && -z "$IMAGE_TAG_PREVIOUS" ]]; then
    [[ -n "$active" ]] || refuse "rollback: PROD is not running on the swarm (no gateway), there is nothing to go back to"
    [[ -n "$before_web_image" ]] || refuse "rollback: $target has never run on the swarm, there is no previous colour to go back to"
    web_image="$before_web_image" tx_image="$before_tx_image"
    log "PROD rollback on the swarm: active $active, back to $target (${web_image%@*})"
    local undone="${SWARM_VARS[${active^^}_WEB_IMAGE]%@*}"
    prod_backup_name_for_rollback "${undone##*:}"
  else
    fetch_release "$name" "$tag" "$source" gateway
    read -r web_image tx_image gateway_image < <(swarm_push_release "$name" "$tag") || die "cannot push the release"
    log "PROD $ACTION on the swarm: active ${active:-none}, target $target with $web_image"
    if [[ -z "${SWARM_VARS[DB_IMAGE]}" ]]; then SWARM_VARS[DB_IMAGE]="$(swarm_push_db_image)"; fi
    if [[ -z "${SWARM_VARS[GATEWAY_IMAGE]}" ]]; then
      SWARM_VARS[GATEWAY_IMAGE]="$gateway_image" SWARM_VARS[GATEWAY_REPLICAS]=0
      SWARM_VARS[GATEWAY_UPSTREAM_HOST]="web_$target"
    fi
  fi
  log "replicas: web $WEB_REPLICAS, transactions $TRANSACTIONS_REPLICAS per colour"
  [[ "$db_runs" == true ]] || swarm_secrets_ensure
  # The env file's settings (not secrets) go to the services' environment (the stack file's
  # `x-service-env` names the same ones).
  local setting value
  for setting in LOG_LEVEL SCRYPT_LOG_N SCRYPT_R SCRYPT_P \
    LOGIN_MAX_FAILURES_PER_USER_AND_IP LOGIN_MAX_FAILURES_PER_IP LOGIN_FAILURE_WINDOW_S LOGIN_SLOW_AFTER_FAILURES \
    LOGIN_MAX_DELAY_MS REGISTER_MAX_PER_IP REGISTER_WINDOW_S TRANSFER_MAX_PER_SESSION TRANSFER_MAX_PER_USER \
    TRANSFER_WINDOW_S ACCOUNT_OPENING_MAX_PER_SESSION ACCOUNT_OPENING_MAX_PER_USER ACCOUNT_OPENING_WINDOW_S; do
    value="$(sed -n "s/^$setting=//p" "$ENV_FILE" | tail -1)"
    [[ -z "$value" ]] || SWARM_VARS[$setting]="$value"
    # The seed hashes the demo users' passwords with the web service's cost.
    [[ -z "$value" ]] || SWARM_JOB_ENV+=(--env "$setting=$value")
  done
  local colour
  for colour in blue green; do
    [[ -n "${SWARM_VARS[${colour^^}_WEB_IMAGE]}" ]] || swarm_set_colour "$colour" "$web_image" "$tx_image" 0 0
  done

  # The database (first deploy), then a backup and the migrate job before the target starts,
  # unless the target already runs this release (it ran its migrations when it started it; the
  # Compose path's start_colour skips them alike).
  local same_release=false
  [[ "$web_image" != "$before_web_image" || "$tx_image" != "$before_tx_image" ]] || same_release=true
  if [[ "$db_runs" == false ]]; then swarm_stack_deploy || die "docker stack deploy failed"; fi
  if [[ "$same_release" == false ]] && [[ "$ACTION" == deploy || -n "$IMAGE_TAG_PREVIOUS" ]]; then
    [[ "$db_runs" == false ]] || prod_backup_before_migrations "$tag"
    swarm_migrate "$tx_image"
  fi

  swarm_note_tasks "web_$target" "transactions_$target"
  swarm_set_colour "$target" "$web_image" "$tx_image" "$WEB_REPLICAS" "$TRANSACTIONS_REPLICAS"
  if [[ "$same_release" == true && "$WEB_REPLICAS" == "$before_web" && "$TRANSACTIONS_REPLICAS" == "$before_tx" ]]; then
    log "$target already runs this release with these replicas"
  else
    swarm_stack_deploy || die "docker stack deploy failed"
  fi
  if ! swarm_wait_ready "$target" "$WEB_REPLICAS" "$TRANSACTIONS_REPLICAS"; then
    swarm_diagnostics
    swarm_set_colour "$target" "$before_web_image" "$before_tx_image" "$before_web" "$before_tx"
    swarm_stack_deploy >/dev/null 2>&1 || true
    die "$target did not become ready; ${active:-nothing} keeps serving (the target went back to its previous spec)"
  fi
  log "$target ready on every node $(elapsed_s "$START_MS")s after the deploy started"

  if [[ -z "$active" ]]; then
    SWARM_VARS[GATEWAY_REPLICAS]=1 SWARM_VARS[GATEWAY_UPSTREAM_HOST]="web_$target"
    swarm_stack_deploy || die "docker stack deploy failed"
    "$ROOT_DIR/scripts/wait_for_http.sh" "$SWARM_URL/health" "$HEALTH_TIMEOUT" 0.2 >/dev/null ||
      die "the gateway does not answer on $SWARM_URL"
    swarm_find_gateway
    # An upstream file kept in the gateway's volume (a stack removed and deployed again) wins.
    [[ "$(swarm_gateway_exec set-upstream --current | awk '{ print $2 }')" == "$target" ]] || swarm_gateway_exec set-upstream "web_$target" "$target" >&2 ||
      die "the gateway refused the upstream web_$target"
    swarm_confirm_public "$target" || die "$SWARM_URL is not served by $target"
  else
    local flip_ms
    flip_ms="$(now_ms)"
    if ! swarm_switch_to "$target"; then
      swarm_end_drain_on_exit
      if [[ "$(swarm_gateway_exec set-upstream --current | awk '{ print $2 }')" != "$active" ]]; then
        swarm_switch_to "$active" || die "switching to $target failed, and switching back to $active failed too"
      fi
      die "the switch to $target failed; $active keeps serving"
    fi
    log "gateway now routes to $target (switch took $(elapsed_s "$flip_ms")s; $SWARM_URL served by $target ${SWARM_SERVED_AFTER}s after the $ACTION started)"
  fi
  if is_true "$RUN_SMOKE" && ! run_smoke "$SWARM_URL"; then
    [[ -n "$active" ]] || die "smoke checks failed on $SWARM_URL"
    swarm_switch_to "$active" || die "smoke checks failed on $SWARM_URL, and switching back to $active failed"
    die "smoke checks failed on $SWARM_URL after the switch to $target; back on $active"
  fi
  if [[ -n "$active" && "$SWARM_STOP_PREVIOUS" == true ]]; then
    swarm_set_colour "$active" "${SWARM_VARS[${active^^}_WEB_IMAGE]}" "${SWARM_VARS[${active^^}_TRANSACTIONS_IMAGE]}" 0 0
    swarm_stack_deploy || log "could not scale $active to 0"
    log "$active scaled to 0 (STOP_PREVIOUS=true)"
  elif [[ -n "$active" ]]; then
    log "$active left running out of the upstream: a rollback is a switch"
  fi
  log "PROD $ACTION on the swarm done: ${active:-nothing} -> $target in $(elapsed_s "$START_MS")s"
}
