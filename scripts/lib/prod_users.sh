#!/usr/bin/env bash
# PROD's users for scripts/deploy_blue_green_local.sh (sourced, not run): no public password
# where PROD can be reached (docs/CD-PIPELINE.md, "Le mot de passe admin de PROD").
#
#   <state>/prod-admin-password   admin's password: random, made by the first PROD deploy, mode
#                                 600. The database job gets it on stdin (never on a command
#                                 line, never in a log) and uses it to create `admin` on an empty
#                                 database or to replace a still-public `admin` password
#                                 (password123, a database seeded before this rule).
#   PROD_DEMO_CUSTOMERS=true|false   the demo customers alice, bob, charlie (password123):
#                                 default true while the gateway is on loopback (created on an
#                                 empty database), refused beyond it. false: never created, and
#                                 any still on the public password gets a random one nobody
#                                 knows. Beyond loopback, unset: a database that still has them
#                                 with the public password stops the deploy before it migrates.

prod_admin_password_file() { printf '%s/prod-admin-password' "$(state_dir)"; }

# Maps PROD_DEMO_CUSTOMERS and the gateway's exposure to the job's SEED_DEMO_CUSTOMERS
# (yes, no, lock), read by compose/docker-compose.prod.yml. Exit 2 on a bad or unsafe value.
prod_users_resolve() {
  [[ "$TARGET" == prod ]] || return 0
  local loopback=false
  gateway_is_loopback "$GATEWAY_BIND_ADDRESS" && loopback=true
  case "${PROD_DEMO_CUSTOMERS:-}" in
    "") if [[ "$loopback" == true ]]; then SEED_DEMO_CUSTOMERS=yes; else SEED_DEMO_CUSTOMERS=no; fi ;;
    true)
      [[ "$loopback" == true ]] ||
        refuse "PROD_DEMO_CUSTOMERS=true with GATEWAY_BIND_ADDRESS=$GATEWAY_BIND_ADDRESS would publish alice, bob and charlie with their public password beyond this machine: set PROD_DEMO_CUSTOMERS=false, or GATEWAY_BIND_ADDRESS=127.0.0.1"
      SEED_DEMO_CUSTOMERS=yes
      ;;
    false) SEED_DEMO_CUSTOMERS=lock ;;
    *) refuse "PROD_DEMO_CUSTOMERS must be true or false, got '$PROD_DEMO_CUSTOMERS'" ;;
  esac
  export SEED_DEMO_CUSTOMERS
}

# Runs the database job (the command given as arguments) with admin's password on its stdin,
# and tells the operator where that password is when the job used it (created or replaced).
# Printed once, on a terminal only: a CI log is a log.
prod_users_migrate() {
  local file output status
  file="$(prod_admin_password_file)"
  if [[ ! -s "$file" ]]; then
    state_mkdir || return 1
    (umask 077 && od -An -N15 -tx1 /dev/urandom | tr -d ' \n' >"$file" && echo >>"$file") || return 1
  fi
  [[ "$(stat -c %a "$file")" == 600 ]] || chmod 600 "$file"
  output="$(mktemp)"
  # pipefail: the job's status (tee succeeds).
  if "$@" <"$file" 2>&1 | tee "$output" >&2; then status=0; else status=$?; fi
  if grep -q 'PROD admin password set from the deploy' "$output"; then
    if [[ -t 2 ]]; then
      log "PROD admin: user 'admin', password $(head -1 "$file") (shown once; kept in $file, mode 600)"
    else
      log "PROD admin: user 'admin', password in $file (mode 600); not shown because this output is not a terminal"
    fi
  fi
  rm -f "$output"
  return "$status"
}
