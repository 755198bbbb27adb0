#!/usr/bin/env bash
# Installs the npm tools of the supply-chain stages, apart from the app's node_modules (the app's
# `npm ci` stays as it is, and the licence check covers the app only): scripts/ci/tools/<name>/
# holds a package.json with exact versions and its package-lock.json; `npm install --no-save`
# installs that lock's versions (integrity hashes checked) into scripts/ci/tools/<name>/node_modules,
# without install scripts. Not `npm ci`: it refuses cdxgen's lock, where three optional platform
# packages of @cdxgen/safer-exec are missing because they were never published. An installed set
# is reused while the lock is unchanged.
#
# Usage: scripts/ci/tools.sh sbom|scan
#   sbom  @cyclonedx/cdxgen (image SBOMs), @cyclonedx/cyclonedx-library + ajv (schema validation)
#   scan  secretlint + @secretlint/secretlint-rule-preset-recommend, spdx-satisfies (licences)
#   TOOLS_ROOT  where the tool sets are (default scripts/ci/tools; tests point it elsewhere)
# Exit 1 with the packages that could not be installed named, 2 on a bad name.
set -euo pipefail
cd "$(dirname "$0")/../.."

name="${1:-}"
dir="${TOOLS_ROOT:-scripts/ci/tools}/$name"
if [[ -z "$name" || ! -f "$dir/package.json" || ! -f "$dir/package-lock.json" ]]; then
  echo "usage: scripts/ci/tools.sh sbom|scan (no package.json + package-lock.json in '$dir')" >&2
  exit 2
fi

# The direct dependencies, "name@version" per line.
wanted() {
  # shellcheck disable=SC2016 # a JavaScript template literal
  node -e 'const p = require(process.argv[1]); for (const [n, v] of Object.entries(p.dependencies || {})) console.log(`${n}@${v}`)' \
    "$(cd "$dir" && pwd)/package.json"
}

# Those of them not in node_modules at their version.
not_installed() {
  local spec pkg version manifest
  while IFS= read -r spec; do
    pkg="${spec%@*}"
    version="${spec##*@}"
    manifest="$dir/node_modules/$pkg/package.json"
    if [[ ! -f "$manifest" ]] || [[ "$(node -p 'require(process.argv[1]).version' "$(cd "$(dirname "$manifest")" && pwd)/package.json")" != "$version" ]]; then
      printf '%s\n' "$spec"
    fi
  done < <(wanted)
}

stamp="$dir/node_modules/.tools-lock.json"
if [[ -f "$stamp" ]] && cmp -s "$stamp" "$dir/package-lock.json" && [[ -z "$(not_installed)" ]]; then
  echo "tools $name: up to date ($(wanted | tr '\n' ' '))"
  exit 0
fi

start=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! npm install --prefix "$dir" --no-save --ignore-scripts --no-audit --no-fund >"$log" 2>&1; then
  missing="$(not_installed | tr '\n' ' ')"
  echo "tools $name: could not install: ${missing:-(all direct dependencies present, see the npm error below)} (npm install in $dir failed)" >&2
  grep -E 'npm (error|ERR!)' "$log" | head -n 8 >&2 || tail -n 8 "$log" >&2
  exit 1
fi
missing="$(not_installed | tr '\n' ' ')"
if [[ -n "$missing" ]]; then
  echo "tools $name: could not install: $missing (npm install in $dir reported success)" >&2
  exit 1
fi
cp "$dir/package-lock.json" "$stamp"
echo "tools $name: installed in $((SECONDS - start)) s ($(wanted | tr '\n' ' '))"
