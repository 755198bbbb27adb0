#!/usr/bin/env bash
# Resolve the CD parameters from the GitHub event and the workflow_dispatch inputs, validate them and
# write them to $GITHUB_ENV (or print them as KEY=value lines when GITHUB_ENV is not set).
#
# Usage (the workflow passes inputs through the environment, never through ${{ }} in a script):
#   TARGET=uat|prod [ACTION=deploy|rollback] [INPUT_MODE=build|image] [INPUT_IMAGE_NAME=...]
#   [INPUT_IMAGE_TAG=...] [INPUT_RUN_SMOKE=true|false] [INPUT_PRUNE_UAT=true|false]
#   [INPUT_IMAGE_TAG_PREVIOUS=...] scripts/ci/cd-params.sh
# Defaults: MODE=build; IMAGE_NAME=ghcr.io/<owner>/<repo> (lower case); IMAGE_TAG = the git tag on a
# tag push, else the short commit SHA; RUN_SMOKE=true; PRUNE_UAT=false.
# Exit 2 on an invalid value (the deployment does not start).
set -euo pipefail

fail() {
  echo "cd-params: $*" >&2
  exit 2
}

target="${TARGET:-}"
action="${ACTION:-deploy}"
mode="${INPUT_MODE:-build}"
run_smoke="${INPUT_RUN_SMOKE:-true}"
prune_uat="${INPUT_PRUNE_UAT:-false}"
previous="${INPUT_IMAGE_TAG_PREVIOUS:-}"

repository="${GITHUB_REPOSITORY:-local/fintech-test}"
image_name="${INPUT_IMAGE_NAME:-ghcr.io/${repository,,}}"

sha="${GITHUB_SHA:-$(git rev-parse HEAD 2>/dev/null || echo local)}"
if [[ -n "${INPUT_IMAGE_TAG:-}" ]]; then
  image_tag="$INPUT_IMAGE_TAG"
elif [[ "${GITHUB_REF_TYPE:-}" == "tag" ]]; then
  image_tag="${GITHUB_REF_NAME}"
else
  image_tag="${sha:0:12}"
fi

[[ "$target" == uat || "$target" == prod ]] || fail "TARGET must be uat or prod, got '$target'"
[[ "$action" == deploy || "$action" == rollback ]] || fail "ACTION must be deploy or rollback, got '$action'"
[[ "$mode" == build || "$mode" == image ]] || fail "mode must be build or image, got '$mode'"
[[ "$run_smoke" == true || "$run_smoke" == false ]] || fail "run_smoke must be true or false, got '$run_smoke'"
[[ "$prune_uat" == true || "$prune_uat" == false ]] || fail "prune_uat must be true or false, got '$prune_uat'"
tag_re='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
[[ "$image_tag" =~ $tag_re ]] || fail "image tag '$image_tag' is not a valid Docker tag"
[[ -z "$previous" || "$previous" =~ $tag_re ]] || fail "image_tag_previous '$previous' is not a valid Docker tag"
[[ "$image_name" =~ ^[a-z0-9]+([._/:-][a-z0-9]+)*$ ]] || fail "image name '$image_name' is not a valid lower-case repository"
if [[ "$action" == rollback && "$mode" == image && -z "$previous" ]]; then
  fail "a rollback in MODE=image needs image_tag_previous (the tag to redeploy)"
fi

emit() {
  echo "TARGET=$target"
  echo "ACTION=$action"
  echo "MODE=$mode"
  echo "IMAGE_NAME=$image_name"
  echo "IMAGE_TAG=$image_tag"
  echo "IMAGE_TAG_PREVIOUS=$previous"
  echo "RUN_SMOKE=$run_smoke"
  echo "PRUNE_UAT=$prune_uat"
}
if [[ -n "${GITHUB_ENV:-}" ]]; then emit >>"$GITHUB_ENV"; else emit; fi
echo "cd-params: $action $target, MODE=$mode, image $image_name:$image_tag${previous:+ (previous $previous)}" >&2
