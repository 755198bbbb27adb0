#!/usr/bin/env bash
# Helpers shared by scripts/deploy_blue_green_local.sh (sourced, not run): logging and exit codes,
# the deploy lock, releases (images by name and tag), crash detection, diagnostics, smoke checks.

# ---- Deploy run state ---------------------------------------------------------------------------
# Every global a deploy run sets or reads, in one list: who sets it (>) and who reads it (<).
# The helpers take what varies between calls (colour, release, tag, project, url) as arguments;
# what is the same for the whole run is read from here. scripts/deploy_blue_green_local.sh
# resolves the settings once, in this order, then makes the ones nothing changes afterwards
# readonly (marked "ro"), so that a helper which assigns one by mistake fails at once.
#
# Settings, resolved before anything changes:
#   ROOT_DIR           > the deploy script (ro)   < compose files, k6, wait_for_http.sh, db-backup.sh
#   DEPLOY_NAME        > here (stack-down.sh: its own)   < log, refuse, the lock's message
#   TARGET ACTION MODE PLATFORM IMAGE_TAG_PREVIOUS RUN_SMOKE PRUNE_UAT STOP_OLD_COLOR
#   HEALTH_TIMEOUT DRAIN_TIMEOUT SMOKE_SECONDS
#                      > deploy_params_resolve (ro)   < uat_main, prod_main, swarm_main and the
#                        waits, drains and smoke checks they call; ACTION also
#                        prod_backup_before_migrations (a rollback takes no backup)
#   IMAGE_NAME IMAGE_TAG
#                      > deploy_params_resolve; uat_main exports IMAGE_TAG as the tag it deploys;
#                        prod_compose_release sets both for one compose command (so not ro)
#                      < the compose files (interpolated), the *_main functions
#   WEB_REPLICAS TRANSACTIONS_REPLICAS
#                      > deploy_params_resolve (given, or empty on PROD), then
#                        deploy_params_keep_replicas once the live colour is known (resolve_replicas
#                        on Compose, swarm_main on the Swarm)   < start_colour, colour_runs,
#                        wait_colour_ready, swarm_main; exported
#   DEPLOY_REPLICAS_CHOICES   > deploy_params_keep_replicas   < resolve_replicas (its log line)
#   DRAIN_NOTICE CONFIRM_COUNT CONFIRM_TIMEOUT DEPLOY_TEST_UPSTREAM_HOST
#                      > here, from the environment (ro)   < switch_to, swarm_switch_to,
#                        confirm_colour_serves; DEPLOY_TEST_UPSTREAM_HOST also deploy_params_resolve
#   GATEWAY_TLS GATEWAY_BIND_ADDRESS GATEWAY_TLS_CERT_FILE GATEWAY_TLS_KEY_FILE
#                      > gateway_tls_resolve, gateway_tls_prepare (scripts/gateway-tls.sh)
#                      < gateway_tls_install, gateway_expose_prod, gateway_url, prod_users_resolve
#   SEED_DEMO_CUSTOMERS  > prod_users_resolve   < the migrate job (compose/docker-compose.prod.yml)
#   START_MS           > the deploy script, before the lock (ro)   < the elapsed times logged
#   COMPOSE_ARGV       > compose_detect (scripts/lib/compose.sh)   < compose, uat_up
#   ENV_FILE           > use_env_file (ro once set; exported: the compose files read it)
#                      < compose, swarm_secrets_ensure, swarm_main
#   PROD_URL UAT_URL   > deploy_prod.sh / deploy_uat.sh (http defaults), then the deploy script
#                        from gateway_url once GATEWAY_TLS is known (ro)   < checks and log lines
#   SWARM_STACK SWARM_MANAGER SWARM_SOCKET   > scripts/lib/swarm_manager.sh   < swarm_docker & co.
#
# Run state that changes as the deploy goes (declared next to the one file that owns it):
#   RESTART_BASELINE   > note_restart_counts   < crashed_service (below)
#   DRAINING           > drain_flag   < end_drain_on_exit, the EXIT trap (deploy_prod.sh)
#   SWARM_*            the Swarm path's stack variables, task snapshots, drain flag and gateway
#                      container (scripts/lib/deploy_swarm.sh, each one commented there)
# -------------------------------------------------------------------------------------------------

DEPLOY_NAME="deploy_blue_green_local"
# Seconds of "Connection: close" before the reload, and public answers required from the new colour
# (within CONFIRM_TIMEOUT seconds) before a switch counts as done.
DRAIN_NOTICE="${DRAIN_NOTICE:-1}"
CONFIRM_COUNT="${CONFIRM_COUNT:-5}"
CONFIRM_TIMEOUT="${CONFIRM_TIMEOUT:-10}"
# Test only: the upstream host written instead of web_<colour> (see the deploy script's header).
DEPLOY_TEST_UPSTREAM_HOST="${DEPLOY_TEST_UPSTREAM_HOST:-}"

log() { printf '[%s] %s\n' "$DEPLOY_NAME" "$*" >&2; }

# Exit 1: the deploy failed (see the script's header for what still serves).
die() {
  log "FAILED: $*"
  exit 1
}

# Exit 2: refused before anything was changed; one line.
refuse() { deploy_params_refuse "$@"; }

now_ms() { date +%s%3N; }
elapsed_s() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

is_true() { [[ "$1" == "true" ]]; }

# One deploy per target at a time, from whichever checkout: flock on <state>/<target>.lock, held
# on file descriptor 9 until this process exits (the fd outlives the function, which is the
# point). A second deploy is refused at once (exit 3) rather than queued.
#   acquire_lock TARGET
acquire_lock() {
  local target="$1" lock_file
  state_mkdir || exit 1
  lock_file="$(state_dir)/$target.lock"
  exec 9>>"$lock_file"
  if ! flock -n 9; then
    printf '%s: another deploy of %s is running (lock %s held by pid %s); refused\n' \
      "$DEPLOY_NAME" "$target" "$lock_file" "$(cat "$lock_file.pid" 2>/dev/null || echo '?')" >&2
    exit 3
  fi
  echo "$$" >"$lock_file.pid"
}

# Sets and exports ENV_FILE (what the compose files read): the one given, else the state
# directory's, created on the first deploy only.
#   use_env_file TARGET
use_env_file() {
  local target="$1"
  if [[ -n "${ENV_FILE:-}" ]]; then
    [[ -f "$ENV_FILE" ]] || refuse "ENV_FILE $ENV_FILE does not exist"
  else
    state_env_ensure "$target" "$ROOT_DIR/compose/.env.$target.example" || die "no usable env file for $target"
    ENV_FILE="$(state_env_file "$target")"
  fi
  export ENV_FILE
}

# Registry login only when credentials are given (REGISTRY_USER + REGISTRY_PASSWORD); the CD
# workflow logs in with docker/login-action instead.
registry_login() {
  if [[ -n "${REGISTRY_USER:-}" && -n "${REGISTRY_PASSWORD:-}" ]]; then
    local registry="${IMAGE_NAME%%/*}"
    log "docker login $registry as $REGISTRY_USER"
    printf '%s' "$REGISTRY_PASSWORD" | docker login "$registry" -u "$REGISTRY_USER" --password-stdin >/dev/null ||
      die "docker login $registry failed"
  fi
}

# A release is an image name and a tag: <name>-<service>:<tag> for web, transactions, gateway.
release_image() { printf '%s-%s:%s' "$1" "$3" "$2"; }

# Pulls a release's images (MODE=image) and verifies each one's digest (verify_pulled_image). A
# tag the registry does not have, or an image that fails verification, is refused (exit 2, one
# line) before anything runs differently.
pull_release() {
  local name="$1" tag="$2" service ref error
  shift 2
  registry_login
  for service in "$@"; do
    ref="$(release_image "$name" "$tag" "$service")"
    log "docker pull $ref"
    if ! error="$(docker pull -q "$ref" 2>&1 >/dev/null)"; then
      refuse "cannot pull $ref: $(printf '%s' "$error" | tail -n 1); nothing was changed"
    fi
    verify_pulled_image "$ref"
  done
}

# What a pulled image is checked against, before any container starts (VERIFY_IMAGES):
#   github   `gh attestation verify oci://<name>@<digest> --repo <VERIFY_REPO>`: a build provenance
#            attestation of that exact digest, signed by GitHub for a workflow of that repository
#            (default on GitHub Actions; VERIFY_REPO defaults to GITHUB_REPOSITORY; gh reads GH_TOKEN)
#   digests  the digest recorded for that image by the build that pushed it (IMAGE_DIGESTS_FILE,
#            written by scripts/ci/cd-publish-images.sh): where GitHub's OIDC does not exist
#            (default when IMAGE_DIGESTS_FILE is set)
#   none     not verified, said in the log (default otherwise)
verify_pulled_image() {
  local ref="$1" repo="${1%:*}" digest mode expected output
  mode="${VERIFY_IMAGES:-}"
  if [[ -z "$mode" ]]; then
    mode=none
    [[ -z "${IMAGE_DIGESTS_FILE:-}" ]] || mode=digests
    [[ "${GITHUB_ACTIONS:-}" != true ]] || mode=github
  fi
  digest="$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$ref" 2>/dev/null |
    grep -m1 "^$repo@sha256:" || true)"
  case "$mode" in
    github)
      [[ -n "$digest" ]] || refuse "$ref has no registry digest to verify; nothing was changed"
      command -v gh >/dev/null 2>&1 ||
        refuse "gh (GitHub CLI) is not installed: cannot verify the attestation of $digest; nothing was changed"
      local owner_repo="${VERIFY_REPO:-${GITHUB_REPOSITORY:-}}"
      [[ -n "$owner_repo" ]] || refuse "VERIFY_REPO (owner/repo) is required to verify $digest; nothing was changed"
      if ! output="$(gh attestation verify "oci://$digest" --repo "$owner_repo" 2>&1)"; then
        refuse "$digest has no valid build provenance attestation from $owner_repo ($(printf '%s' "$output" | grep -v '^$' | tail -n 1)); nothing was changed"
      fi
      log "verified: $digest has a build provenance attestation signed for $owner_repo"
      ;;
    digests)
      [[ -f "${IMAGE_DIGESTS_FILE:-}" ]] ||
        refuse "IMAGE_DIGESTS_FILE '${IMAGE_DIGESTS_FILE:-}' does not exist; nothing was changed"
      expected="$(awk -v ref="$ref" '$1 == ref { print $2; exit }' "$IMAGE_DIGESTS_FILE")"
      [[ -n "$expected" ]] || refuse "$ref is not in $IMAGE_DIGESTS_FILE (not recorded by a build); nothing was changed"
      [[ "$digest" == "$expected" ]] ||
        refuse "$ref is ${digest:-without a registry digest}, but the build recorded $expected; nothing was changed"
      log "verified: $ref is $digest, as recorded by the build in $IMAGE_DIGESTS_FILE"
      ;;
    none) log "not verified: $ref is ${digest:-without a registry digest} (VERIFY_IMAGES=none)" ;;
    *) refuse "VERIFY_IMAGES must be github, digests or none, got '$mode'" ;;
  esac
}

# A release that must already be on this host (a rollback in MODE=build).
require_local_release() {
  local name="$1" tag="$2" service
  shift 2
  for service in "$@"; do
    docker image inspect "$(release_image "$name" "$tag" "$service")" >/dev/null 2>&1 ||
      refuse "release $tag is not on this host ($(release_image "$name" "$tag" "$service") is missing); nothing was changed"
  done
}

# Id of a compose service's (first) container (running only, or in any state with `all`).
container_of() { containers_of "$@" | head -1; }

# While Compose recreates a container, a name "<12-hex id>_<name>" appears, where the id is the
# replaced container's: Compose v2 creates the new container under that name, then stops and
# removes the old one before renaming the new; v1 renamed the old one so. Both containers are
# mid-replacement, neither a replica nor a crash (the old one shows "exited, code 0" for a moment).
# Drops their lines of "<service> <id> <name>" and prints "<service> <id>" for the others.
not_being_replaced() {
  awk '{ line[NR] = $0; id[NR] = substr($2, 1, 12); head = substr($3, 1, 12)
         if (index($3, "_") == 13 && head ~ /^[0-9a-f]+$/) { temp[NR] = 1; replaced[head] = 1 } }
       END { for (i = 1; i <= NR; i++) if (!temp[i] && !replaced[id[i]]) { split(line[i], f, " "); print f[1], f[2] } }'
}

# "<service> <id>" of the project's containers (any state), one per line.
project_containers() {
  docker ps -a --filter "label=com.docker.compose.project=$1" \
    --format '{{.Label "com.docker.compose.service"}} {{.ID}} {{.Names}}' | not_being_replaced
}

# Ids of every container of a compose service (its replicas), running only or with `all`.
containers_of() {
  local project="$1" service="$2" all=()
  [[ "${3:-}" == all ]] && all=(-a)
  docker ps "${all[@]}" --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$service" --format '{{.Label "com.docker.compose.service"}} {{.ID}} {{.Names}}' |
    not_being_replaced | awk '{ print $2 }'
}

# "<service> <id> <status> <restarts> <exit code>" for each container (every replica) of the
# listed services: one `docker ps` and one `docker inspect` whatever their number.
container_states() {
  local project="$1" service id
  shift
  local -A wanted=()
  local ids=()
  for service in "$@"; do wanted[$service]=1; done
  while read -r service id; do
    [[ -n "${wanted[$service]:-}" ]] && ids+=("$id")
  done < <(project_containers "$project")
  ((${#ids[@]} > 0)) || return 0
  docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Id}} {{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' \
    "${ids[@]}" 2>/dev/null | awk '{ $2 = substr($2, 1, 12); print }'
}

# Restart counts of the services' current containers, so that a container that restarted before
# this deploy is not taken for a crash (a recreated container starts again from 0). Only running
# ones count from where they are: Docker resets the count when a stopped container is started
# again, so a stopped colour's old count would hide its next crashes.
declare -gA RESTART_BASELINE=()
note_restart_counts() {
  local service id status restarts code
  while read -r service id status restarts code; do
    if [[ "$status" == running || "$status" == restarting ]]; then RESTART_BASELINE[$id]="$restarts"; fi
  done < <(container_states "$@")
}

# Prints "<service> <status> <restarts> <exit code> <id>" for the first service whose container
# exited, is restarting or restarted since note_restart_counts; returns 1 when all of them run.
crashed_service() {
  local service id status restarts code
  while read -r service id status restarts code; do
    if [[ "$status" =~ ^(restarting|exited|dead)$ ]] || ((restarts > ${RESTART_BASELINE[$id]:-0})); then
      printf '%s %s %s %s %s\n' "$service" "$status" "$restarts" "$code" "$id"
      return 0
    fi
  done < <(container_states "$@")
  return 1
}

# Names the crashed container and shows its last log lines.
report_crash() {
  local service status restarts code id
  read -r service status restarts code id <<<"$1"
  log "$service crashed: container $id is $status (last exit code $code, $restarts restart(s)); its last log lines:"
  docker logs --tail "${CRASH_LOG_LINES:-20}" "$id" 2>&1 | sed "s/^/  $service | /" >&2 || true
}

# CONFIRM_COUNT consecutive answers of <url>/health must come from `colour` (X-App-Color). A
# reload is asynchronous (old workers answer until the master has started the new ones), so the
# answers are awaited for up to CONFIRM_TIMEOUT seconds.
#   confirm_colour_serves URL COLOUR
confirm_colour_serves() {
  local url="$1" colour="$2" streak=0 seen deadline=$((SECONDS + CONFIRM_TIMEOUT))
  while ((streak < CONFIRM_COUNT)); do
    seen="$(curl -sS -o /dev/null -D - --max-time 5 "$url/health" 2>/dev/null |
      tr -d '\r' | awk -F': ' 'tolower($1) == "x-app-color" { print $2 }')" || true
    if [[ "$seen" == "$colour" ]]; then
      streak=$((streak + 1))
      continue
    fi
    streak=0
    if ((SECONDS >= deadline)); then
      log "public check: $url/health answered by '${seen:-nothing}', expected $colour (for ${CONFIRM_TIMEOUT}s)"
      return 1
    fi
    sleep 0.1
  done
}

# Smoke checks through a public URL for SMOKE_SECONDS: k6/perf-smoke.js with k6 when it is
# installed, else the same GET /health loop with curl, then the main pages' status codes.
run_smoke() {
  local base="$1"
  if command -v k6 >/dev/null 2>&1; then
    log "smoke: k6 run k6/perf-smoke.js against $base for ${SMOKE_SECONDS}s"
    local length=(--duration "${SMOKE_SECONDS}s")
    ((SMOKE_SECONDS > 0)) || length=(--iterations 1)
    BASE_URL="$base" k6 run --quiet "${length[@]}" "$ROOT_DIR/k6/perf-smoke.js" >&2 || {
      log "smoke: k6 failed (exit $?)"
      return 1
    }
    log "smoke: ok (k6)"
    return 0
  fi
  log "smoke: curl checks against $base for ${SMOKE_SECONDS}s (k6 not installed)"
  local deadline=$((SECONDS + SMOKE_SECONDS)) body
  while :; do
    body="$(curl -sS --fail --max-time 5 "$base/health" 2>&1)" || body="failed: $body"
    if [[ "$body" != *'"status":"ok"'* ]]; then
      log "smoke: GET /health answered: ${body:-nothing}"
      return 1
    fi
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  local check path expected code
  for check in "/ready 200" "/login 200" "/ 302" "/dashboard 302"; do
    path="${check% *}" expected="${check#* }"
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$base$path")" || code="none"
    [[ "$code" == "$expected" ]] || {
      log "smoke: GET $path answered $code, expected $expected"
      return 1
    }
  done
  log "smoke: ok (curl)"
}
