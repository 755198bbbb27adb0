#!/usr/bin/env bash
# Helpers shared by scripts/deploy_blue_green_local.sh (sourced, not run): logging, parameter
# validation, the deploy lock, env files, images and diagnostics.

DEPLOY_NAME="deploy_blue_green_local"

log() { printf '[%s] %s\n' "$DEPLOY_NAME" "$*" >&2; }

# Bad input: one line, exit 2, nothing touched.
bad_input() {
  printf '%s: %s\n' "$DEPLOY_NAME" "$*" >&2
  exit 2
}

die() {
  log "FAILED: $*"
  exit 1
}

now_ms() { date +%s%3N; }
elapsed_s() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

is_true() { [[ "$1" == "true" ]]; }

# Checks every parameter before anything is touched (exit 2 on the first bad one).
validate_parameters() {
  case "$TARGET" in uat | prod) ;; *) bad_input "unknown TARGET '$TARGET' (expected uat or prod)" ;; esac
  case "$MODE" in image | build) ;; *) bad_input "unknown MODE '$MODE' (expected image or build)" ;; esac
  case "$ACTION" in deploy | rollback) ;; *) bad_input "unknown ACTION '$ACTION' (expected deploy or rollback)" ;; esac
  local flag
  for flag in RUN_SMOKE PRUNE_UAT STOP_OLD_COLOR; do
    case "${!flag}" in true | false) ;; *) bad_input "$flag must be true or false, got '${!flag}'" ;; esac
  done
  if [[ "$MODE" == "image" ]]; then
    [[ -n "$IMAGE_NAME" ]] || bad_input "MODE=image needs IMAGE_NAME (e.g. ghcr.io/owner/fintech-test)"
    if [[ "$ACTION" == "deploy" && -z "$IMAGE_TAG" ]]; then
      bad_input "MODE=image needs IMAGE_TAG (the tag to deploy)"
    fi
    [[ "$IMAGE_NAME" =~ ^[a-z0-9][a-z0-9._/:-]*$ ]] || bad_input "IMAGE_NAME '$IMAGE_NAME' is not a valid image name"
    local tag
    for tag in "$IMAGE_TAG" "$IMAGE_TAG_PREVIOUS"; do
      [[ -z "$tag" || "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || bad_input "'$tag' is not a valid image tag"
    done
  fi
  if [[ "$ACTION" == "rollback" && "$TARGET" == "uat" ]]; then
    [[ "$MODE" == "image" && -n "$IMAGE_TAG_PREVIOUS" ]] ||
      bad_input "rollback of UAT needs MODE=image and IMAGE_TAG_PREVIOUS (UAT has no previous colour; in build mode revert in Git and deploy again)"
  fi
  [[ "$HEALTH_TIMEOUT" =~ ^[0-9]+$ && "$HEALTH_TIMEOUT" -gt 0 ]] || bad_input "HEALTH_TIMEOUT must be a positive number of seconds"
  [[ "$DRAIN_TIMEOUT" =~ ^[0-9]+$ ]] || bad_input "DRAIN_TIMEOUT must be a number of seconds"
  [[ -z "$DEPLOY_TEST_UPSTREAM_HOST" || "$TARGET" == "prod" ]] || bad_input "DEPLOY_TEST_UPSTREAM_HOST only applies to TARGET=prod"
}

# One deploy per target at a time: flock on .deploy/<target>.lock, held until this process exits.
# A second deploy is refused at once (exit 3) rather than queued behind the first.
acquire_lock() {
  local dir="$ROOT_DIR/.deploy"
  mkdir -p "$dir"
  LOCK_FILE="$dir/$TARGET.lock"
  exec 9>>"$LOCK_FILE"
  if ! flock -n 9; then
    printf '%s: another deploy of %s is running (lock %s held by pid %s); refused\n' \
      "$DEPLOY_NAME" "$TARGET" "$LOCK_FILE" "$(cat "$LOCK_FILE.pid" 2>/dev/null || echo '?')" >&2
    exit 3
  fi
  echo "$$" >"$LOCK_FILE.pid"
}

# compose/.env.<target> from its .example when absent, every `change-me-…` placeholder replaced by
# a fresh random secret (64 hex characters; the same placeholder gets the same secret everywhere,
# e.g. the DB password in POSTGRES_PASSWORD and in DATABASE_URL).
# ENV_FILE (read by the compose files) points at another file instead; it must then exist.
ensure_env_file() {
  if [[ -n "${ENV_FILE:-}" ]]; then
    [[ -f "$ENV_FILE" || -f "$ROOT_DIR/compose/$ENV_FILE" ]] || die "ENV_FILE $ENV_FILE does not exist"
    return 0
  fi
  local env_file="$ROOT_DIR/compose/.env.$TARGET" example="$ROOT_DIR/compose/.env.$TARGET.example"
  [[ -f "$env_file" ]] && return 0
  [[ -f "$example" ]] || die "neither $env_file nor $example exists"
  local content placeholder
  content="$(cat "$example")"
  while [[ "$content" =~ (change-me-[A-Za-z0-9-]+) ]]; do
    placeholder="${BASH_REMATCH[1]}"
    content="${content//"$placeholder"/$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}"
  done
  (umask 077 && printf '%s\n' "$content" >"$env_file")
  log "created $env_file from its example with generated secrets"
}

# Registry login only when credentials are given (REGISTRY_USER + REGISTRY_PASSWORD).
registry_login() {
  if [[ -n "${REGISTRY_USER:-}" && -n "${REGISTRY_PASSWORD:-}" ]]; then
    local registry="${IMAGE_NAME%%/*}"
    log "docker login $registry as $REGISTRY_USER"
    printf '%s' "$REGISTRY_PASSWORD" | docker login "$registry" -u "$REGISTRY_USER" --password-stdin >/dev/null
  fi
}

# Images published by CI for a tag: <IMAGE_NAME>-<service>:<tag> (compose files use the same names).
remote_image() { printf '%s-%s:%s' "$IMAGE_NAME" "$1" "$2"; }

# Pulls <IMAGE_NAME>-<service>:<tag> for each service and tags it locally as bank-<service>:<local tag>.
pull_and_tag() {
  local tag="$1" local_tag="$2"
  shift 2
  registry_login
  local service remote
  for service in "$@"; do
    remote="$(remote_image "$service" "$tag")"
    log "docker pull $remote"
    docker pull -q "$remote" >/dev/null || die "docker pull $remote failed"
    docker tag "$remote" "bank-$service:$local_tag"
  done
}

# Plain HTTP smoke checks through a public port (k6 when present, curl otherwise).
run_smoke() {
  local base="$1"
  if command -v k6 >/dev/null 2>&1 && [[ -f "$ROOT_DIR/k6/perf-smoke.js" ]]; then
    log "smoke: k6 run k6/perf-smoke.js against $base"
    BASE_URL="$base" k6 run --quiet "$ROOT_DIR/k6/perf-smoke.js" || return 1
    return 0
  fi
  log "smoke: HTTP checks against $base (k6 not installed)"
  local path expected code
  for check in "/health 200" "/ready 200" "/login 200" "/ 302" "/dashboard 302"; do
    path="${check% *}" expected="${check#* }"
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$base$path")" || code="none"
    [[ "$code" == "$expected" ]] || {
      log "smoke: GET $path answered $code, expected $expected"
      return 1
    }
  done
  log "smoke: ok"
}
