// Licence check of the production dependencies: every package that `npm query .prod` finds in
// the installed tree (package.json `dependencies` and everything they pull in; not the dev tools)
// must have a licence expression that the SPDX identifiers of scripts/ci/licences-allowed.json
// satisfy ("MIT OR GPL-3.0" passes with MIT allowed; "MIT AND GPL-3.0" does not), or be listed in
// its `exceptions` with a reason. A missing or unparsable licence fails too.
//
// Usage: node scripts/ci/licences.mjs [PROJECT_DIR]   (default: this checkout; needs node_modules)
//   Exit 0: all allowed. 1: one line per package refused (name@version, licence, path). 2: bad usage.
//   Report: PROJECT_DIR/reports/licences.json (every production package and its licence).
// Needs `scripts/ci/tools.sh scan` first (spdx-satisfies; the `licences` stage does both).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const project = path.resolve(process.argv[2] ?? root);
if (process.argv.length > 3 || !existsSync(path.join(project, 'package.json'))) {
  console.error('usage: node scripts/ci/licences.mjs [PROJECT_DIR] (a directory with package.json and node_modules)');
  process.exit(2);
}
const toolsRequire = createRequire(path.join(here, 'tools/scan/package.json'));
let satisfies;
try {
  satisfies = toolsRequire('spdx-satisfies');
} catch {
  console.error('licences: spdx-satisfies is not installed; run scripts/ci/tools.sh scan');
  process.exit(1);
}
const policy = JSON.parse(readFileSync(path.join(here, 'licences-allowed.json'), 'utf8'));
const allowed = policy.allowed;
const exceptions = policy.exceptions ?? {};

/** The licence expression of a package manifest: `license` (SPDX), or the legacy forms. */
function licenceOf(node) {
  if (typeof node.license === 'string') return node.license;
  if (node.license?.type) return node.license.type;
  if (Array.isArray(node.licenses) && node.licenses.length > 0) {
    return node.licenses.map((l) => (typeof l === 'string' ? l : l.type)).join(' OR ');
  }
  return '';
}

function verdict(licence) {
  if (!licence) return 'no licence declared';
  try {
    return satisfies(licence, allowed) ? '' : 'not in the allow-list';
  } catch {
    return 'not a valid SPDX expression';
  }
}

const nodes = JSON.parse(
  execFileSync('npm', ['query', '.prod'], { cwd: project, encoding: 'utf8', maxBuffer: 256 << 20 }),
).filter((n) => n.location !== '');
const packages = nodes.map((n) => {
  const licence = licenceOf(n);
  const exception = exceptions[n.name];
  const problem = exception ? '' : verdict(licence);
  return { name: n.name, version: n.version, licence, location: n.location, problem, exception };
});
mkdirSync(path.join(project, 'reports'), { recursive: true });
writeFileSync(path.join(project, 'reports/licences.json'), `${JSON.stringify({ allowed, packages }, null, 2)}\n`);

const refused = packages.filter((p) => p.problem);
for (const p of refused) {
  console.log(`licences: REFUSED ${p.name}@${p.version}: licence "${p.licence}" (${p.problem}) at ${p.location}`);
}
const counts = {};
for (const p of packages) counts[p.licence || '(none)'] = (counts[p.licence || '(none)'] ?? 0) + 1;
console.log(
  `licences: ${packages.length} production package(s): ${Object.entries(counts)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ')}; ${refused.length} refused (allowed: ${allowed.join(', ')}) -> reports/licences.json`,
);
process.exit(refused.length === 0 ? 0 : 1);
