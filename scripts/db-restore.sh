#!/usr/bin/env bash
# Restore a stack's database from a backup of scripts/db-backup.sh, without ever making things
# worse (docs/SAUVEGARDES.md; the steps are in scripts/lib/db_restore.sh):
#
#   scripts/db-restore.sh uat|prod FILE|latest            the backup as it was taken
#   scripts/db-restore.sh prod --time '2026-12-05 10:42:00+01'
#                                                         point in time: the newest base backup
#                                                         before it, then the WAL archive up to it
#   scripts/db-restore.sh prod --before-transfer TRX-…    point in time: just before that transfer
#                                                         committed (its transaction id)
#   scripts/db-restore.sh uat|prod --drop-previous        delete the clusters kept by earlier
#                                                         restores (previous-<stamp>)
#
# The backup is verified, recovered into a new cluster beside the live one and checked (ledger
# invariants, schema not newer than the live one) before the services are switched to it; the
# live cluster is kept as previous-<stamp> in the same volume. BACKUP_DIR as for db-backup.sh.
# Exit 0 restored; 1 failed (before the switch: the live database unchanged); 2 refused, nothing
# changed (bad arguments, target not running, missing BACKUP_DIR, a backup that is truncated,
# altered, incomplete or of a newer schema, a point in time outside the range available: the
# message gives the oldest and newest points); 3 a deploy or restore of the target is running.
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"
# shellcheck source=scripts/lib/db_backup.sh
source "$ROOT_DIR/scripts/lib/db_backup.sh"
# shellcheck source=scripts/lib/db_restore.sh
source "$ROOT_DIR/scripts/lib/db_restore.sh"
DB_LOG_NAME="db-restore"

usage="usage: scripts/db-restore.sh uat|prod FILE|latest | --time 'YYYY-MM-DD HH:MM:SS+TZ' | --before-transfer TRX-... | --drop-previous"
[[ $# -eq 2 || $# -eq 3 ]] || db_refuse "$usage"
DB_TARGET="$1"
db_check_target "$DB_TARGET"
# The restore stops the writers and switches them through the Compose stack's own steps; on the
# swarm that is an operator's procedure (docs/SAUVEGARDES.md).
! db_on_swarm || db_refuse "PLATFORM=swarm: a restore on the swarm is not scripted; docs/SAUVEGARDES.md says how (the backups are the same files)"
mode="file"
case "$2" in
  --time | --before-transfer)
    [[ $# -eq 3 && -n "$3" ]] || db_refuse "$usage"
    mode="$2"
    ;;
  --drop-previous) mode=drop ;;
  -*) db_refuse "$usage" ;;
  *) [[ $# -eq 2 ]] || db_refuse "$usage" ;;
esac

db_require_running "$DB_TARGET"
dir="$(db_backup_dir)"

# The deploy's lock: no deploy (nor a second restore) of this target meanwhile.
state_mkdir
exec 9>>"$(state_dir)/$DB_TARGET.lock"
flock -n 9 || {
  echo "db-restore: a deploy or restore of $DB_TARGET is running (lock $(state_dir)/$DB_TARGET.lock); refused" >&2
  exit 3
}
db_inspect_live
started="$(db_now_ms)"

if [[ "$mode" == drop ]]; then
  # shellcheck disable=SC2016 # expanded by the helper's bash
  db_helper -c 'shopt -s nullglob; cd /var/lib/postgresql/data; for d in previous-*; do du -sh "$d"; rm -rf "$d"; done' >&2
  db_log "previous clusters of $DB_TARGET dropped"
  exit 0
fi

targets=()
case "$mode" in
  file)
    if [[ "$2" == latest ]]; then
      backup="$(db_backups_of "$dir" "$DB_TARGET" | tail -1)"
      [[ -n "$backup" ]] || db_refuse "no backup of $DB_TARGET in $dir (take one: scripts/db-backup.sh $DB_TARGET)"
    else
      backup="$2"
    fi
    point="the end of the backup"
    ;;
  --time)
    when="$(date -d "$3" +%s.%N 2>/dev/null)" || db_refuse "--time '$3' is not a date (example: --time '2026-12-05 10:42:00+01')"
    [[ -n "$DB_ARCHIVE_VOLUME" ]] || db_refuse "$DB_TARGET has no WAL archive: only whole backups can be restored (scripts/db-restore.sh $DB_TARGET latest)"
    backup="$(db_pitr_base "$dir" "$DB_TARGET" "${when%.*}" "--time '$3'")"
    targets=(-c "recovery_target_time=$(date -u -d "@$when" '+%Y-%m-%d %H:%M:%S.%6N+00')")
    point="$(date -u -d "@$when" '+%Y-%m-%d %H:%M:%S.%3N UTC')"
    ;;
  --before-transfer)
    [[ "$3" =~ ^[A-Za-z0-9-]{1,32}$ ]] || db_refuse "'$3' is not a transfer reference (example: TRX-...)"
    [[ -n "$DB_ARCHIVE_VOLUME" ]] || db_refuse "$DB_TARGET has no WAL archive: only whole backups can be restored (scripts/db-restore.sh $DB_TARGET latest)"
    row="$(db_value "$DB_ID" "select xmin::text, floor(extract(epoch from created_at))::bigint from transfers where reference = '$3'" -F ' ')" ||
      db_fail "cannot look up $3 in the $DB_TARGET database"
    [[ -n "$row" ]] || db_refuse "no transfer $3 in the $DB_TARGET database; nothing changed"
    read -r xid created <<<"$row"
    backup="$(db_pitr_base "$dir" "$DB_TARGET" "$created" "transfer $3 ($(db_utc "$created"))")"
    targets=(-c "recovery_target_xid=$xid" -c recovery_target_inclusive=false)
    point="just before $3 (transaction $xid, $(db_utc "$created"))"
    ;;
esac

db_backup_verify "$backup"
manifest="$(db_manifest_of "$backup")"
live_schema="$(db_schema_version "$DB_ID")"
backup_schema="$(db_manifest_get "$manifest" schema_version)"
if [[ "$live_schema" != none && "$backup_schema" > "$live_schema" ]]; then
  db_refuse "$backup holds schema $backup_schema, newer than the live database's $live_schema: deploy the release that has it first; nothing changed"
fi
[[ "$mode" == file ]] || db_archive_now
db_log "restoring $DB_TARGET from $backup (taken $(db_manifest_get "$manifest" time), release $(db_manifest_get "$manifest" release), schema $backup_schema) to $point"
db_restore_prepare "$backup" "${targets[@]}"
db_restore_switch
db_log "restored $DB_TARGET to $point in $(db_seconds_since "$started") s (services stopped ${DB_SWITCH_SECONDS} s); the previous cluster is kept as previous-$DB_STAMP in volume $DB_VOLUME until: scripts/db-restore.sh $DB_TARGET --drop-previous"
