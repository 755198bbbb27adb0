#!/usr/bin/env bash
# Deploy the bank on this host: UAT (one stack, gateway on :5001) or PROD (blue/green behind the
# gateway on :5002). Parameters are environment variables; scripts/lib/deploy_params.sh holds
# every default and rule (the CD workflow resolves its inputs through the same file):
#
#   TARGET=uat|prod            which stack (default uat)
#   ACTION=deploy|rollback     default deploy. PROD rollback: back to the release the other colour
#                              last served (restarted if stopped); with IMAGE_TAG_PREVIOUS, that
#                              tag instead (UAT: only this form)
#   MODE=build|image           build the images here, or pull them (default build)
#   PLATFORM=compose|swarm     PROD on this host's engine (default), or on the Docker Swarm of
#                              scripts/cluster.sh (scripts/lib/deploy_swarm.sh, docs/CLUSTER.md)
#   IMAGE_NAME                 images <IMAGE_NAME>-{web,transactions,gateway}; default "bank" in
#                              MODE=build, required in MODE=image (e.g. ghcr.io/owner/fintech-test)
#   IMAGE_TAG                  default: the checked-out commit's SHA (what CI publishes)
#   IMAGE_TAG_PREVIOUS         rollback to this tag (pulled in MODE=image)
#   RUN_SMOKE=true|false       smoke checks after the deploy, before the old colour stops (k6 when
#                              installed, curl otherwise) for SMOKE_SECONDS (10); default true
#   PRUNE_UAT=true|false       UAT: remove dangling images after the deploy; default false
#   STOP_OLD_COLOR=true|false  PROD: stop the old colour once the new one passed its checks
#                              (default true); false keeps it running so that a rollback is a flip
#   HEALTH_TIMEOUT=120         seconds to wait for the new version to be ready
#   DRAIN_TIMEOUT=30           PROD: seconds to wait for the old gateway workers to finish
#   WEB_REPLICAS               PROD: web containers per colour (1-8); the gateway spreads the
#                              requests over every replica of the active colour
#   TRANSACTIONS_REPLICAS      PROD: transactions containers per colour (1-8); web reaches them
#                              through Docker's DNS (round-robin per new connection)
#                              Either one unset or empty: PROD keeps what the active colour runs
#                              now (1 when none runs: a first deploy), and the log says which
#                              ("replicas: web 2 (kept from blue), ..."); UAT runs 1
#   BANK_STATE_DIR             state kept outside the checkout (default ~/.fintech-test): the
#                              stacks' env files, the PROD release record, the deploy locks
#   ENV_FILE                   env file of the services (default <BANK_STATE_DIR>/<target>.env,
#                              created with generated secrets on the first deploy only)
#   NODE_IMAGE, POSTGRES_IMAGE, NGINX_IMAGE   base images (MODE=build); default: the official
#                              ones, or scripts/offline-base-images.sh's where Docker Hub is unreachable
#   REGISTRY_USER/REGISTRY_PASSWORD   docker login (MODE=image) only when both are set
#   GATEWAY_BIND_ADDRESS       host address of the gateway's port (default 127.0.0.1: this
#                              machine only); DB_BIND_ADDRESS the same for the database's
#   GATEWAY_TLS=on|off         HTTPS on the gateway's port; default off on loopback, on beyond
#                              (off beyond loopback is refused). GATEWAY_TLS_CERT + GATEWAY_TLS_KEY:
#                              your certificate; else one from a local CA made in
#                              <BANK_STATE_DIR>/tls, for localhost and GATEWAY_TLS_NAMES
#                              (scripts/gateway-tls.sh)
#   PROD_DEMO_CUSTOMERS=true|false   PROD: the demo customers (password123); default true on
#                              loopback, refused beyond it. PROD's admin gets a random password
#                              kept in <BANK_STATE_DIR>/prod-admin-password (scripts/lib/prod_users.sh)
#   VERIFY_IMAGES=github|digests|none  MODE=image: each pulled image's digest is verified before
#                              any container starts, else refused (exit 2): github = its build
#                              provenance attestation (`gh attestation verify`, VERIFY_REPO,
#                              default on GitHub Actions), digests = the digest the build recorded
#                              in IMAGE_DIGESTS_FILE (default when set), none = logged only
#   DEPLOY_TEST_UPSTREAM_HOST  test only: host written into the gateway's upstream instead of
#                              web_<colour> (the e2e tests use a name nginx cannot resolve to prove
#                              that `nginx -t` refuses a broken config)
#
# Exit codes:
#   0  deployed (PROD: the new colour serves and passed its checks)
#   1  the deploy failed, diagnostics printed. PROD: the release that was serving serves (a check
#      that failed after the switch switched back first); a failed cold start leaves PROD
#      stopped. UAT (one stack) may be down
#   2  refused before anything changed: a bad parameter, no previous release to roll back to, a
#      release whose images cannot be pulled or are not on this host
#   3  another deploy of the same target is running
#   4  PROD: a check failed after the switch and switching back failed too (the old colour
#      vanished meanwhile): an operator must look; the last line says what serves
#
# Examples:
#   TARGET=prod ./scripts/deploy_blue_green_local.sh                   # flips blue <-> green
#   TARGET=prod WEB_REPLICAS=2 TRANSACTIONS_REPLICAS=2 ./scripts/deploy_blue_green_local.sh
#                                                     # 2+2 per colour, kept by later deploys
#   TARGET=prod ACTION=rollback ./scripts/deploy_blue_green_local.sh   # back to the previous release
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/compose.sh
source "$ROOT_DIR/scripts/lib/compose.sh"
# shellcheck source=scripts/ci/lib.sh
source "$ROOT_DIR/scripts/ci/lib.sh"
# shellcheck source=scripts/lib/deploy_params.sh
source "$ROOT_DIR/scripts/lib/deploy_params.sh"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"
# shellcheck source=scripts/lib/deploy_common.sh
source "$ROOT_DIR/scripts/lib/deploy_common.sh"
# shellcheck source=scripts/lib/deploy_uat.sh
source "$ROOT_DIR/scripts/lib/deploy_uat.sh"
# shellcheck source=scripts/lib/deploy_prod.sh
source "$ROOT_DIR/scripts/lib/deploy_prod.sh"
# shellcheck source=scripts/gateway-tls.sh
source "$ROOT_DIR/scripts/gateway-tls.sh"
# shellcheck source=scripts/lib/prod_users.sh
source "$ROOT_DIR/scripts/lib/prod_users.sh"
# shellcheck source=scripts/lib/db_backup.sh
source "$ROOT_DIR/scripts/lib/db_backup.sh"
# shellcheck source=scripts/lib/deploy_backup.sh
source "$ROOT_DIR/scripts/lib/deploy_backup.sh"
# shellcheck source=scripts/lib/deploy_swarm.sh
source "$ROOT_DIR/scripts/lib/deploy_swarm.sh"

# The run's settings, resolved once (the list of every global a run uses, and who sets and reads
# each one: "Deploy run state" at the top of scripts/lib/deploy_common.sh). Those that nothing
# changes afterwards become readonly as soon as they are resolved.
readonly ROOT_DIR DRAIN_NOTICE CONFIRM_COUNT CONFIRM_TIMEOUT DEPLOY_TEST_UPSTREAM_HOST
deploy_params_resolve "$ROOT_DIR"
readonly TARGET ACTION MODE PLATFORM IMAGE_TAG_PREVIOUS RUN_SMOKE PRUNE_UAT STOP_OLD_COLOR \
  HEALTH_TIMEOUT DRAIN_TIMEOUT SMOKE_SECONDS
gateway_tls_resolve
prod_users_resolve
# A deploy to a cluster that is not up stops here, before anything is written.
if [[ "$PLATFORM" == swarm ]]; then swarm_require_cluster; fi
START_MS="$(now_ms)"
readonly START_MS
acquire_lock "$TARGET"
cd "$ROOT_DIR"
compose_detect || exit 1
use_env_file "$TARGET"
readonly ENV_FILE
gateway_tls_prepare "$TARGET"
PROD_URL="$(gateway_url 5002)" UAT_URL="$(gateway_url 5001)"
readonly PROD_URL UAT_URL
log "exposure: gateway on $GATEWAY_BIND_ADDRESS, ${PROD_URL%%:*}${SEED_DEMO_CUSTOMERS:+, demo customers: $SEED_DEMO_CUSTOMERS}"
log "$ACTION $TARGET: MODE=$MODE release $(release_image "$IMAGE_NAME" "${IMAGE_TAG_PREVIOUS:-$IMAGE_TAG}" '*') RUN_SMOKE=$RUN_SMOKE state $(state_dir)"

case "$PLATFORM:$TARGET" in
  compose:uat) uat_main ;;
  compose:prod) prod_main ;;
  swarm:prod) swarm_main ;;
esac
