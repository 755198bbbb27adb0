#!/usr/bin/env bash
# State that outlives the checkout (sourced, not run): a CI runner's checkout deletes every ignored
# file on each run, so the stacks' secrets and the PROD release record live in
# ${BANK_STATE_DIR:-$HOME/.fintech-test}, never in the work tree:
#   <target>.env        the stack's env file (database password, SECRET_KEY, signing secret):
#                       created once from compose/.env.<target>.example with fresh random
#                       secrets, mode 0600, then reused as it is and never rewritten by a deploy;
#                       `scripts/ci/prepare-env.sh --rotate KEY TARGET` is the one way to change it
#   prod.releases       "<colour> <image name> <tag>": the last release each colour served
#   <target>.lock(.pid) one deploy per target at a time, whichever checkout it runs from
# Functions print their messages on stderr and return non-zero on failure.

state_dir() { printf '%s' "${BANK_STATE_DIR:-$HOME/.fintech-test}"; }

state_env_file() { printf '%s/%s.env' "$(state_dir)" "$1"; }

state_mkdir() {
  local dir
  dir="$(state_dir)"
  [[ -d "$dir" ]] || (umask 077 && mkdir -p "$dir")
}

state_random_secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# What a usable env file holds: no placeholder left, both secrets long enough.
state_env_check() {
  local file="$1" key
  if grep -v '^[[:space:]]*#' "$file" | grep -q 'change-me'; then
    echo "state: $file still holds a change-me placeholder; edit it, or delete it to have it generated" >&2
    return 1
  fi
  for key in SECRET_KEY SERVICE_SIGNING_SECRET; do
    grep -qE "^${key}=.{32,}" "$file" || {
      echo "state: $key is missing from $file or shorter than 32 characters" >&2
      return 1
    }
  done
}

# Creates <state>/<target>.env from the example when absent (each `change-me-…` placeholder
# becomes one random secret, the same one wherever it appears: the database password in
# POSTGRES_PASSWORD and inside DATABASE_URL); an existing file is reused untouched.
state_env_ensure() {
  local target="$1" example="$2" file
  file="$(state_env_file "$target")"
  if [[ -f "$file" ]]; then
    if [[ "$(stat -c %a "$file")" != 600 ]]; then
      chmod 600 "$file"
      echo "state: $file was readable by others; mode set back to 0600" >&2
    fi
    state_env_check "$file" || return 1
    echo "state: reusing $file (secrets unchanged since $(date -r "$file" '+%Y-%m-%d %H:%M'))" >&2
    return 0
  fi
  [[ -f "$example" ]] || {
    echo "state: $file does not exist and there is no $example to create it from" >&2
    return 1
  }
  state_mkdir || return 1
  local content placeholder
  content="$(cat "$example")"
  while [[ "$content" =~ (change-me-[A-Za-z0-9-]+) ]]; do
    placeholder="${BASH_REMATCH[1]}"
    content="${content//"$placeholder"/$(state_random_secret)}"
  done
  # noclobber: if another process created the file meanwhile, keep theirs.
  (set -o noclobber && umask 077 && printf '%s\n' "$content" >"$file") 2>/dev/null || {
    [[ -f "$file" ]] && return 0
    echo "state: cannot write $file" >&2
    return 1
  }
  echo "state: created $file with fresh secrets (mode 0600); later deploys reuse it" >&2
}

# Replaces KEY=value in an env file by KEY=new value, atomically, keeping mode 0600. The value
# reaches awk through its environment, not its arguments: `ps` shows arguments to every user.
state_env_set() {
  local file="$1" key="$2" value="$3" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  ENV_KEY="$key" ENV_VALUE="$value" awk -F= '$1 == ENVIRON["ENV_KEY"] { print ENVIRON["ENV_KEY"] "=" ENVIRON["ENV_VALUE"]; next } { print }' "$file" >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$file"
}

# The operator's explicit secret change. POSTGRES_PASSWORD is changed in the running database
# first (ALTER ROLE), then in the file, DATABASE_URL included. The next deploy applies it.
state_env_rotate() {
  local target="$1" key="$2" file secret
  file="$(state_env_file "$target")"
  [[ -f "$file" ]] || {
    echo "state: $file does not exist yet (the first deploy creates it)" >&2
    return 1
  }
  secret="$(state_random_secret)"
  case "$key" in
    SECRET_KEY | SERVICE_SIGNING_SECRET) state_env_set "$file" "$key" "$secret" ;;
    POSTGRES_PASSWORD) state_rotate_db_password "$target" "$file" "$secret" || return 1 ;;
    *)
      echo "state: cannot rotate '$key' (expected SECRET_KEY, SERVICE_SIGNING_SECRET or POSTGRES_PASSWORD)" >&2
      return 2
      ;;
  esac
  echo "state: new $key written to $file; deploy $target again to apply it" >&2
}

state_rotate_db_password() {
  local target="$1" file="$2" secret="$3" db user old url
  db="$(docker ps -q --filter "label=com.docker.compose.project=bank-$target" \
    --filter "label=com.docker.compose.service=db" | head -1)"
  [[ -n "$db" ]] || {
    echo "state: the $target database is not running; start it (deploy $target) before rotating its password" >&2
    return 1
  }
  user="$(sed -n 's/^POSTGRES_USER=//p' "$file")"
  old="$(sed -n 's/^POSTGRES_PASSWORD=//p' "$file")"
  url="$(sed -n 's/^DATABASE_URL=//p' "$file")"
  # Both passwords on psql's stdin, never on a command line (`ps` shows those to every local
  # user): the old one as the first line, read by the shell in the container into PGPASSWORD
  # (its environment, not its arguments), then the statement that psql reads as its script.
  # shellcheck disable=SC2016 # expanded by the bash inside the database container
  printf '%s\nALTER ROLE "%s" PASSWORD '"'"'%s'"'"';\n' "$old" "$user" "$secret" |
    docker exec -i "$db" bash -c 'IFS= read -r PGPASSWORD && export PGPASSWORD &&
      exec psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$1" -d postgres' rotate-password "$user" >&2 || {
    echo "state: ALTER ROLE failed; $file left unchanged" >&2
    return 1
  }
  state_env_set "$file" POSTGRES_PASSWORD "$secret"
  state_env_set "$file" DATABASE_URL "${url/":$old@"/":$secret@"}"
}

# The release (<image name> <tag>) that `colour` last served in PROD, if any.
state_release_of() {
  local file
  file="$(state_dir)/prod.releases"
  [[ -f "$file" ]] || return 1
  awk -v colour="$1" '$1 == colour { print $2, $3; found = 1 } END { exit !found }' "$file"
}

# Records that `colour` now serves <name>:<tag>. With `only`, forgets the other colour (a cold
# start begins a new history: the other colour's old release belongs to a stack that is gone).
state_release_record() {
  local colour="$1" name="$2" tag="$3" mode="${4:-}" file tmp
  state_mkdir || return 1
  file="$(state_dir)/prod.releases"
  tmp="$(mktemp "$file.XXXXXX")"
  if [[ -f "$file" && "$mode" != only ]]; then
    awk -v colour="$colour" '$1 != colour' "$file" >"$tmp"
  fi
  printf '%s %s %s\n' "$colour" "$name" "$tag" >>"$tmp"
  mv -f "$tmp" "$file"
}
