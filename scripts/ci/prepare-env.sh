#!/usr/bin/env bash
# The env file of a stack (database password, SECRET_KEY, signing secret), kept outside the
# checkout in ${BANK_STATE_DIR:-$HOME/.fintech-test}/<target>.env (scripts/lib/deploy_state.sh):
#
#   scripts/ci/prepare-env.sh uat|prod
#       creates it from compose/.env.<target>.example with fresh random secrets when it does not
#       exist (mode 0600), else checks it and leaves it exactly as it is. Prints its path.
#   scripts/ci/prepare-env.sh --rotate SECRET_KEY|SERVICE_SIGNING_SECRET|POSTGRES_PASSWORD uat|prod
#       the operator's explicit secret change (POSTGRES_PASSWORD: in the running database first);
#       the next deploy of that target applies it. A new SECRET_KEY logs every user out.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/deploy_state.sh
source scripts/lib/deploy_state.sh

usage() {
  echo "usage: $0 uat|prod | $0 --rotate SECRET_KEY|SERVICE_SIGNING_SECRET|POSTGRES_PASSWORD uat|prod" >&2
  exit 2
}

rotate=""
if [[ "${1:-}" == --rotate ]]; then
  rotate="${2:-}"
  shift 2 || usage
fi
target="${1:-}"
[[ $# -eq 1 && ("$target" == uat || "$target" == prod) ]] || usage

if [[ -n "$rotate" ]]; then
  state_env_rotate "$target" "$rotate"
else
  state_env_ensure "$target" "compose/.env.$target.example"
fi
state_env_file "$target"
echo
