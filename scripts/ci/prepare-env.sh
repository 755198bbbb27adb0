#!/usr/bin/env bash
# Create compose/.env.<target> from compose/.env.<target>.example when it does not exist, and fill
# SECRET_KEY and SERVICE_SIGNING_SECRET with fresh random values (64 hex characters) whenever they are
# empty or still a placeholder. Existing real secrets are kept, so sessions survive a redeployment.
# Usage: scripts/ci/prepare-env.sh uat|prod
set -euo pipefail
cd "$(dirname "$0")/../.."

target="${1:-}"
[[ "$target" == uat || "$target" == prod ]] || {
  echo "usage: $0 uat|prod" >&2
  exit 2
}
example="compose/.env.${target}.example"
env_file="compose/.env.${target}"

if [[ ! -f "$env_file" ]]; then
  [[ -f "$example" ]] || {
    echo "prepare-env: $example not found" >&2
    exit 1
  }
  install -m 600 "$example" "$env_file"
  echo "prepare-env: created $env_file from $example"
fi

# A value is a placeholder when empty or when it says so (change-me, changeme, replace..., <...>).
is_placeholder() {
  local value="${1,,}"
  [[ -z "$value" || "$value" == *change*me* || "$value" == *replace* || "$value" == *placeholder* || "$value" == "<"*">" ]]
}

for key in SECRET_KEY SERVICE_SIGNING_SECRET; do
  current="$(sed -n "s/^${key}=//p" "$env_file" | tail -n 1)"
  current="${current%\"}"
  current="${current#\"}"
  if is_placeholder "$current"; then
    secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    if grep -q "^${key}=" "$env_file"; then
      sed -i "s/^${key}=.*/${key}=${secret}/" "$env_file"
    else
      printf '%s=%s\n' "$key" "$secret" >>"$env_file"
    fi
    echo "prepare-env: generated $key in $env_file"
  else
    echo "prepare-env: kept the existing $key of $env_file"
  fi
done
chmod 600 "$env_file"
