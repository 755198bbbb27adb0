#!/usr/bin/env bash
# Create compose/.env.<target> from compose/.env.<target>.example when it does not exist, then replace
# every secret placeholder still in it (change-me-…, CHANGE_ME…) by a fresh random value of 64 hex
# characters: SECRET_KEY, SERVICE_SIGNING_SECRET, the database password... The same placeholder gets
# the same value everywhere, so POSTGRES_PASSWORD and the password inside DATABASE_URL stay equal.
# Real values already in the file are kept (sessions survive a redeployment); IMAGE_NAME / IMAGE_TAG
# lines are left alone (the deployment passes those from its parameters).
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

placeholder_re='(change-me|CHANGE_ME)[A-Za-z0-9_-]*'
mapfile -t placeholders < <(grep -vE '^[[:space:]]*(#|IMAGE_NAME=|IMAGE_TAG=)' "$env_file" | grep -oE "$placeholder_re" | sort -u || true)
for placeholder in "${placeholders[@]}"; do
  secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  sed -i -E "/^[[:space:]]*(#|IMAGE_NAME=|IMAGE_TAG=)/! s/${placeholder}/${secret}/g" "$env_file"
  keys="$(grep -E "=.*${secret}" "$env_file" | cut -d= -f1 | paste -sd, -)"
  echo "prepare-env: generated a secret for ${keys} in $env_file"
done
[[ ${#placeholders[@]} -gt 0 ]] || echo "prepare-env: no placeholder left in $env_file, existing values kept"

for key in SECRET_KEY SERVICE_SIGNING_SECRET; do
  grep -qE "^${key}=.{32,}" "$env_file" || {
    echo "prepare-env: $key missing or shorter than 32 characters in $env_file" >&2
    exit 1
  }
done
chmod 600 "$env_file"
