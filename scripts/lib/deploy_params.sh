#!/usr/bin/env bash
# The deploy/CD parameters: every default and every rule, in one place (sourced, not run).
# scripts/deploy_blue_green_local.sh and scripts/ci/cd-params.sh (the CD workflow) both call
# deploy_params_resolve, so a parameter means the same thing whoever starts the deploy.
#
#   TARGET=uat|prod            default uat
#   ACTION=deploy|rollback     default deploy
#   MODE=build|image           default build
#   PLATFORM=compose|swarm     PROD on this host's Docker engine (Compose, default) or on a Docker
#                              Swarm (scripts/cluster.sh's cluster; scripts/lib/deploy_swarm.sh)
#   IMAGE_NAME                 image prefix: <IMAGE_NAME>-web, -transactions, -gateway.
#                              MODE=build: default "bank" (local images); MODE=image: required,
#                              e.g. ghcr.io/<owner>/<repo> (what CI publishes)
#   IMAGE_TAG                  default: the checked-out commit's full SHA (plus "-dirty-<time>"
#                              for a build from a modified work tree, so it never overwrites the
#                              image of a committed release)
#   IMAGE_TAG_PREVIOUS         rollback to this tag (pulled in MODE=image, local images in
#                              MODE=build); empty = PROD goes back to the previous release
#   RUN_SMOKE=true|false       default true
#   PRUNE_UAT=true|false       default false
#   STOP_OLD_COLOR=true|false  default true
#   HEALTH_TIMEOUT=120  DRAIN_TIMEOUT=30  SMOKE_SECONDS=10   (seconds)
#   WEB_REPLICAS  TRANSACTIONS_REPLICAS   PROD: containers per service and colour (1 to
#                              DEPLOY_MAX_REPLICAS); unset or empty = as many as the live colour
#                              runs now (1 when none runs), resolved by the deploy on the host
#                              (deploy_params_keep_replicas). UAT runs one of each (default 1) and
#                              refuses more
#
# Bad values: one line on stderr naming the parameter, exit 2, before anything is touched.

DEPLOY_TAG_RE='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
DEPLOY_MAX_REPLICAS=8
DEPLOY_NAME_RE='^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$'

deploy_params_refuse() {
  printf '%s: %s\n' "${DEPLOY_NAME:-deploy}" "$*" >&2
  exit 2
}

# The commit SHA of the checkout at $1, with a suffix when the work tree differs from it.
deploy_params_commit_tag() {
  local sha
  sha="$(git -C "$1" rev-parse HEAD 2>/dev/null)" || return 1
  if [[ "${MODE:-build}" == build && -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    sha="$sha-dirty-$(date +%Y%m%d%H%M%S)"
  fi
  printf '%s' "$sha"
}

deploy_params_flag() {
  case "${!1}" in true | false) ;; *) deploy_params_refuse "$1 must be true or false, got '${!1}'" ;; esac
}

deploy_params_seconds() {
  [[ "${!1}" =~ ^[0-9]+$ ]] || deploy_params_refuse "$1 must be a whole number of seconds, got '${!1}'"
  [[ "${2:-}" != positive || "${!1}" -gt 0 ]] || deploy_params_refuse "$1 must be at least 1 second"
}

deploy_params_replicas() {
  [[ "${!1}" =~ ^[1-9][0-9]?$ && "${!1}" -le "$DEPLOY_MAX_REPLICAS" ]] ||
    deploy_params_refuse "$1 must be a whole number from 1 to $DEPLOY_MAX_REPLICAS, got '${!1}'"
  [[ "$TARGET" == prod || "${!1}" == 1 ]] ||
    deploy_params_refuse "$1=${!1}: replicas apply to TARGET=prod only (UAT runs one container per service)"
}

# A replica count as given: checked when set. Unset on UAT: 1. Unset on PROD: left empty, because
# only the host that runs the stack can count what the live colour runs (the CD workflow resolves
# its parameters on GitHub's runner first), so deploy_params_keep_replicas resolves it there.
deploy_params_replicas_given() {
  if [[ -n "${!1}" ]]; then
    deploy_params_replicas "$1"
  elif [[ "$TARGET" != prod ]]; then
    printf -v "$1" '%s' 1
  fi
}

# web for WEB_REPLICAS, transactions for TRANSACTIONS_REPLICAS.
deploy_params_replica_service() {
  local service="${1%_REPLICAS}"
  printf '%s' "${service,,}"
}

# PROD, on the host, once the live colour is known (on a cold start: the colour about to start):
# a replica count left empty becomes the number of containers of that service the live colour
# runs now, so that an automatic deploy keeps what an operator scaled PROD to, or 1 when none
# runs (a first deploy). A given count stays.
#   deploy_params_keep_replicas VAR LIVE_COLOUR RUNNING   (VAR: WEB_REPLICAS or TRANSACTIONS_REPLICAS)
# Sets VAR and appends why to DEPLOY_REPLICAS_CHOICES ("web 2 (kept from blue)") for the log.
# More running than a deploy may start is refused (exit 2): the count must then be given.
DEPLOY_REPLICAS_CHOICES=()
deploy_params_keep_replicas() {
  local var="$1" colour="$2" running="$3" service why
  service="$(deploy_params_replica_service "$var")"
  if [[ -n "${!var}" ]]; then
    why="given"
  elif ((running == 0)); then
    printf -v "$var" '%s' 1
    why="none running in $colour"
  elif ((running <= DEPLOY_MAX_REPLICAS)); then
    printf -v "$var" '%s' "$running"
    why="kept from $colour"
  else
    deploy_params_refuse "${service}_$colour runs $running containers, more than the $DEPLOY_MAX_REPLICAS a deploy starts; give $var"
  fi
  export "${var?}"
  DEPLOY_REPLICAS_CHOICES+=("$service ${!var} ($why)")
}

# Applies the defaults, checks every value, exports the result. $1: the repository's root.
deploy_params_resolve() {
  local root="$1"
  TARGET="${TARGET:-uat}"
  ACTION="${ACTION:-deploy}"
  MODE="${MODE:-build}"
  PLATFORM="${PLATFORM:-compose}"
  RUN_SMOKE="${RUN_SMOKE:-true}"
  PRUNE_UAT="${PRUNE_UAT:-false}"
  STOP_OLD_COLOR="${STOP_OLD_COLOR:-true}"
  HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-120}"
  DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-30}"
  SMOKE_SECONDS="${SMOKE_SECONDS:-10}"
  WEB_REPLICAS="${WEB_REPLICAS:-}"
  TRANSACTIONS_REPLICAS="${TRANSACTIONS_REPLICAS:-}"
  IMAGE_TAG_PREVIOUS="${IMAGE_TAG_PREVIOUS:-}"

  case "$TARGET" in uat | prod) ;; *) deploy_params_refuse "unknown TARGET '$TARGET' (expected uat or prod)" ;; esac
  case "$MODE" in build | image) ;; *) deploy_params_refuse "unknown MODE '$MODE' (expected build or image)" ;; esac
  case "$PLATFORM" in compose | swarm) ;; *) deploy_params_refuse "unknown PLATFORM '$PLATFORM' (expected compose or swarm)" ;; esac
  [[ "$PLATFORM" == compose || "$TARGET" == prod ]] ||
    deploy_params_refuse "PLATFORM=$PLATFORM deploys TARGET=prod only (UAT runs on Compose)"
  case "$ACTION" in deploy | rollback) ;; *) deploy_params_refuse "unknown ACTION '$ACTION' (expected deploy or rollback)" ;; esac
  local flag
  for flag in RUN_SMOKE PRUNE_UAT STOP_OLD_COLOR; do deploy_params_flag "$flag"; done
  deploy_params_seconds HEALTH_TIMEOUT positive
  deploy_params_seconds DRAIN_TIMEOUT
  deploy_params_seconds SMOKE_SECONDS
  deploy_params_replicas_given WEB_REPLICAS
  deploy_params_replicas_given TRANSACTIONS_REPLICAS

  if [[ -z "${IMAGE_NAME:-}" ]]; then
    [[ "$MODE" == build ]] || deploy_params_refuse "MODE=image needs IMAGE_NAME (e.g. ghcr.io/owner/fintech-test)"
    IMAGE_NAME=bank
  fi
  [[ "$IMAGE_NAME" =~ $DEPLOY_NAME_RE ]] ||
    deploy_params_refuse "IMAGE_NAME '$IMAGE_NAME' is not a valid lower-case image name"
  if [[ -z "${IMAGE_TAG:-}" ]]; then
    IMAGE_TAG="$(deploy_params_commit_tag "$root")" ||
      deploy_params_refuse "IMAGE_TAG is required outside a git checkout (the tag to deploy)"
  fi
  local tag
  for tag in IMAGE_TAG IMAGE_TAG_PREVIOUS; do
    [[ -z "${!tag}" || "${!tag}" =~ $DEPLOY_TAG_RE ]] || deploy_params_refuse "$tag '${!tag}' is not a valid image tag"
  done
  # On the swarm a rollback is a switch back to the other colour, still running its release.
  if [[ "$ACTION" == rollback && "$MODE" == image && -z "$IMAGE_TAG_PREVIOUS" && "$PLATFORM" != swarm ]]; then
    deploy_params_refuse "a rollback in MODE=image needs IMAGE_TAG_PREVIOUS (the tag to redeploy)"
  fi
  if [[ "$ACTION" == rollback && "$TARGET" == uat && -z "$IMAGE_TAG_PREVIOUS" ]]; then
    deploy_params_refuse "a rollback of UAT needs IMAGE_TAG_PREVIOUS (UAT has one stack, no previous colour; in build mode revert in Git and deploy again)"
  fi
  [[ -z "${DEPLOY_TEST_UPSTREAM_HOST:-}" || "$TARGET" == prod ]] ||
    deploy_params_refuse "DEPLOY_TEST_UPSTREAM_HOST only applies to TARGET=prod"
  export TARGET ACTION MODE PLATFORM IMAGE_NAME IMAGE_TAG IMAGE_TAG_PREVIOUS RUN_SMOKE PRUNE_UAT STOP_OLD_COLOR \
    HEALTH_TIMEOUT DRAIN_TIMEOUT SMOKE_SECONDS WEB_REPLICAS TRANSACTIONS_REPLICAS
}

# The resolved parameters as KEY=value lines ($GITHUB_ENV format). An empty replica count stays
# empty: the deploy step resolves it on the host (deploy_params_keep_replicas).
deploy_params_print() {
  local key
  for key in TARGET ACTION MODE PLATFORM IMAGE_NAME IMAGE_TAG IMAGE_TAG_PREVIOUS RUN_SMOKE PRUNE_UAT STOP_OLD_COLOR \
    HEALTH_TIMEOUT DRAIN_TIMEOUT SMOKE_SECONDS WEB_REPLICAS TRANSACTIONS_REPLICAS; do
    printf '%s=%s\n' "$key" "${!key}"
  done
}
