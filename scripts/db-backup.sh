#!/usr/bin/env bash
# Backup of a stack's database, checked and kept outside the checkout (docs/SAUVEGARDES.md):
#
#   scripts/db-backup.sh uat|prod [--if-running]
#
# --if-running: a target whose database is not running is skipped with one line and exit 0 (the
# scheduled backup of cd-local.yml, on a runner that may host only one of the stacks).
# Writes <BACKUP_DIR>/bank-<target>-<UTC stamp>.tar.gz (a physical base backup of PostgreSQL 16,
# the same format from the official and the offline image, see scripts/lib/db_backup.sh) and its
# .manifest (time, release, schema version, size, sha256), both mode 600, then keeps the newest
# BACKUP_KEEP (default 14) of that target. BACKUP_DIR defaults to
# ${BANK_STATE_DIR:-~/.fintech-test}/backups; when given, it must exist.
# The last line on stdout is the backup's path. Exit 0 done; 1 the backup failed (nothing kept);
# 2 refused before anything was done (bad target, database not running, missing BACKUP_DIR).
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"
# shellcheck source=scripts/lib/db_backup.sh
source "$ROOT_DIR/scripts/lib/db_backup.sh"

[[ $# -eq 1 || ($# -eq 2 && "${2:-}" == --if-running) ]] || db_refuse "usage: scripts/db-backup.sh uat|prod [--if-running]"
target="$1"
db_check_target "$target"
if [[ "${2:-}" == --if-running && -z "$(db_container "$target")" ]]; then
  db_log "the $target database is not running: nothing to back up"
  exit 0
fi
keep="${BACKUP_KEEP:-14}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || db_refuse "BACKUP_KEEP must be a whole number of backups to keep (got '$keep')"
dir="$(db_backup_dir)"
backup="$(db_backup_take "$target" "$dir" | tail -1)"
[[ -n "$backup" && -f "$backup" ]] || db_fail "no backup written"
db_backup_verify "$backup"
db_backup_prune "$dir" "$target" "$keep"
printf '%s\n' "$backup"
