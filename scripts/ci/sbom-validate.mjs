// Validates CycloneDX JSON SBOMs against the official CycloneDX JSON schema of the version each
// declares (specVersion 1.5 or later), with @cyclonedx/cyclonedx-library's strict JSON validator
// (the schemas ship inside that package; ajv does the validation). Prints, per file, the spec
// version and what it lists (components by package type), or the first schema errors.
//
// Usage: node scripts/ci/sbom-validate.mjs FILE.cdx.json...
//   Exit 0: all valid. 1: a file is invalid, unreadable or older than 1.5. 2: bad usage.
// Needs `scripts/ci/tools.sh sbom` first (the `sbom` stage does both).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/ci/sbom-validate.mjs FILE.cdx.json...');
  process.exit(2);
}
const CDX = createRequire(path.join(here, 'tools/sbom/package.json'))('@cyclonedx/cyclonedx-library');
const VERSIONS = { 1.5: CDX.Spec.Version.v1dot5, 1.6: CDX.Spec.Version.v1dot6 };

/** "deb 133, npm 328, ..." from the components' package URLs (pkg:<type>/...), else their type. */
function inventory(bom) {
  const counts = {};
  for (const c of bom.components ?? []) {
    const kind = c.purl ? c.purl.slice(4, c.purl.indexOf('/')) : c.type;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}

let failed = 0;
for (const file of files) {
  let text;
  let bom;
  try {
    text = readFileSync(file, 'utf8');
    bom = JSON.parse(text);
  } catch (err) {
    console.log(`sbom-validate: ${file}: INVALID, not readable JSON (${err.message})`);
    failed += 1;
    continue;
  }
  const version = VERSIONS[bom.specVersion];
  if (bom.bomFormat !== 'CycloneDX' || !version) {
    console.log(
      `sbom-validate: ${file}: INVALID, not CycloneDX 1.5 or 1.6 (bomFormat ${bom.bomFormat}, specVersion ${bom.specVersion})`,
    );
    failed += 1;
    continue;
  }
  const errors = await new CDX.Validation.JsonStrictValidator(version).validate(text);
  if (errors !== null) {
    const list = Array.isArray(errors) ? errors : [errors];
    console.log(`sbom-validate: ${file}: INVALID against the CycloneDX ${bom.specVersion} schema:`);
    for (const e of list.slice(0, 10)) console.log(`  ${e.instancePath || '/'} ${e.message ?? JSON.stringify(e)}`);
    failed += 1;
    continue;
  }
  console.log(
    `sbom-validate: ${file}: valid CycloneDX ${bom.specVersion}, ${(bom.components ?? []).length} components (${inventory(bom)})`,
  );
}
process.exit(failed === 0 ? 0 : 1);
