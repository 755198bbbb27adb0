#!/usr/bin/env bash
# Stop one of this host's stacks and keep its data, or delete its data on purpose.
#
#   scripts/stack-down.sh ci|uat|prod                          stop; data kept
#   scripts/stack-down.sh ci|uat|prod --delete-data [--yes]    stop and delete the data
#
# It finds what a bare `docker compose … down` needs and gets wrong: the project (bank-<target>),
# the compose file, the env file the files interpolate (UAT/PROD: $ENV_FILE, else
# ${BANK_STATE_DIR:-$HOME/.fintech-test}/<target>.env) and every profile (PROD: blue and green;
# without them `down` leaves the colours running and `down -v` deletes the database volume under
# them).
#
# Stop: containers and networks removed, volumes kept (the database; PROD's active colour). The
# next deploy starts on the same data.
# --delete-data: volumes removed too. For uat and prod, only after
#   1. the target's name typed back on stdin (the terminal), or --yes (CI), and
#   2. a backup: `scripts/db-backup.sh <target>` must exit 0; its last stdout line is the backup's
#      path, printed again at the end.
# A refusal at either step changes nothing. The CI stack holds test data only: no backup, no
# question (the `stack-down` stage of scripts/ci/stage.sh deletes it this way).
# UAT/PROD: the target's deploy lock is held while the stack stops (refused while a deploy runs).
#
# Exit codes: 0 done; 1 failed or refused (nothing deleted); 2 bad arguments; 3 a deploy of the
# target is running.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/ci/lib.sh
source "$ROOT_DIR/scripts/ci/lib.sh"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"
# shellcheck source=scripts/lib/deploy_common.sh
source "$ROOT_DIR/scripts/lib/deploy_common.sh"
DEPLOY_NAME="stack-down"

usage() {
  echo "usage: scripts/stack-down.sh ci|uat|prod [--delete-data [--yes]]" >&2
  exit 2
}

TARGET=""
delete_data=0
assume_yes=0
for arg in "$@"; do
  case "$arg" in
    ci | uat | prod) [[ -z "$TARGET" ]] || usage; TARGET="$arg" ;;
    --delete-data) delete_data=1 ;;
    --yes) assume_yes=1 ;;
    *) echo "stack-down: unknown argument '$arg'" >&2; usage ;;
  esac
done
[[ -n "$TARGET" ]] || usage
[[ $assume_yes -eq 0 || $delete_data -eq 1 ]] || { echo "stack-down: --yes only goes with --delete-data" >&2; usage; }

# compose on the target's project with its file, env file and profiles.
target_compose() {
  case "$TARGET" in
    ci) ci_compose "$@" ;;
    uat) compose -p bank-uat -f "$ROOT_DIR/compose/docker-compose.uat.yml" "$@" ;;
    prod) compose -p bank-prod -f "$ROOT_DIR/compose/docker-compose.prod.yml" --profile blue --profile green "$@" ;;
  esac
}

project() { if [[ "$TARGET" == ci ]]; then echo "$CI_PROJECT"; else echo "bank-$TARGET"; fi; }

volumes_of_project() { docker volume ls -q --filter "label=com.docker.compose.project=$(project)"; }

# The files only need the env file for interpolation when stopping: the state directory's one,
# else (the stack was deployed with another ENV_FILE or BANK_STATE_DIR) the example.
if [[ "$TARGET" != ci ]]; then
  if [[ -z "${ENV_FILE:-}" ]]; then
    ENV_FILE="$(state_env_file "$TARGET")"
    if [[ ! -f "$ENV_FILE" ]]; then
      log "no $ENV_FILE (ENV_FILE unset): using compose/.env.$TARGET.example to read the compose file"
      ENV_FILE="$ROOT_DIR/compose/.env.$TARGET.example"
    fi
  fi
  [[ -f "$ENV_FILE" ]] || { log "ENV_FILE $ENV_FILE does not exist"; exit 2; }
  export ENV_FILE
fi

backup=""
if [[ $delete_data -eq 1 && "$TARGET" != ci ]]; then
  if [[ $assume_yes -eq 0 ]]; then
    printf "stack-down: this deletes %s's database for good (volumes: %s).\nType the target's name (%s) to go on: " \
      "$TARGET" "$(volumes_of_project | tr '\n' ' ')" "$TARGET" >&2
    answer=""
    read -r answer || true
    if [[ "$answer" != "$TARGET" ]]; then
      log "not confirmed (typed '${answer}', expected '$TARGET'); nothing was changed"
      exit 1
    fi
  fi
  backup_script="$ROOT_DIR/scripts/db-backup.sh"
  if [[ ! -f "$backup_script" ]]; then
    log "$backup_script does not exist: no backup can be taken, so $TARGET's data is not deleted; nothing was changed"
    exit 1
  fi
  log "taking a backup of $TARGET first (scripts/db-backup.sh $TARGET)"
  if ! backup_output="$(bash "$backup_script" "$TARGET")"; then
    printf '%s\n' "$backup_output"
    log "the backup of $TARGET failed, so its data is not deleted; nothing was changed"
    exit 1
  fi
  printf '%s\n' "$backup_output"
  backup="$(printf '%s\n' "$backup_output" | tail -1)"
  [[ -n "$backup" ]] || { log "scripts/db-backup.sh printed no backup path; $TARGET's data is not deleted"; exit 1; }
fi

# After the backup, not before: the backup script may take the target's lock itself.
[[ "$TARGET" == ci ]] || acquire_lock "$TARGET"

if [[ $delete_data -eq 1 ]]; then
  target_compose down -v --remove-orphans
  log "$(project) stopped and its volumes deleted"
  [[ -z "$backup" ]] || log "backup taken before the delete: $backup"
else
  target_compose down --remove-orphans
  log "$(project) stopped; volumes kept: $(volumes_of_project | tr '\n' ' ')"
  log "delete them with: scripts/stack-down.sh $TARGET --delete-data"
fi
