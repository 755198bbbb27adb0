#!/usr/bin/env bash
# The PROD deploy's backup (sourced by scripts/deploy_blue_green_local.sh after
# scripts/lib/db_backup.sh, not run): before a release's migrations run, scripts/db-backup.sh
# prod; if it fails, nothing is migrated and the deploy stops with the serving colour untouched.
# <state>/prod.backups records "<tag> <backup>": the database as it was just before <tag> was
# deployed, which a rollback of <tag> names.

# Backs up the PROD database before `tag`'s migrations (deploys only: a rollback runs an older,
# expand-only release), on either platform (scripts/lib/db_backup.sh finds the database's
# container: Compose's, or the Swarm task's on its node). A database without a schema yet (first
# start) has nothing to lose.
prod_backup_before_migrations() {
  local tag="$1" db="" backup started
  [[ "$ACTION" == deploy ]] || return 0
  local deadline=$((SECONDS + 60))
  # shellcheck disable=SC2016 # expanded inside the container; its role, not root's (which the
  # server would log as a FATAL "role does not exist" on every probe)
  until db="$(db_container prod)" && [[ -n "$db" ]] &&
    db_docker exec "$db" sh -c 'pg_isready -q -U "$POSTGRES_USER" -d "$POSTGRES_DB"' 2>/dev/null; do
    ((SECONDS < deadline)) || die "the database is not ready; nothing was migrated"
    sleep 0.5
  done
  if [[ "$(db_value "$db" "select to_regclass('knex_migrations') is not null" 2>/dev/null)" != t ]]; then
    log "backup before the migrations: the database has no schema yet, nothing to back up"
    return 0
  fi
  started="$(now_ms)"
  backup="$("$ROOT_DIR/scripts/db-backup.sh" prod | tail -1)" ||
    die "the backup before the migrations of $tag failed; nothing was migrated (fix it, or see docs/SAUVEGARDES.md)"
  state_mkdir
  printf '%s %s\n' "$tag" "$backup" >>"$(state_dir)/prod.backups"
  log "backup before the migrations of $tag: $backup ($(elapsed_s "$started")s)"
}

# Tells which backup holds the database as it was before `tag`, the release a rollback undoes.
prod_backup_name_for_rollback() {
  local tag="$1" backup
  # No record file yet (no deploy took a backup in this state directory) is no backup.
  backup="$(awk -v tag="$tag" '$1 == tag { path = $2 } END { print path }' "$(state_dir)/prod.backups" 2>/dev/null || true)"
  if [[ -n "$backup" ]]; then
    log "rollback of $tag: the database as it was before $tag is in $backup (scripts/db-restore.sh prod $backup restores it; not done automatically)"
  else
    log "rollback of $tag: no backup was recorded before $tag was deployed"
  fi
}

# The database runs: the service db, or the standby that scripts/db-promote.sh promoted (then the
# old primary, fenced, must stay stopped).
prod_database_running() { [[ -n "$(db_container prod)" ]]; }
