#!/usr/bin/env node
// Per-service coverage from the lcov report `npm test` writes (c8), checked against floors.
// c8's own thresholds are global: a service could lose coverage while another gains and the
// total would not move. The floors are the figures measured when they were set; raise them when
// a service's coverage rises, never lower them to let a change through.
//
// Usage: node scripts/ci/coverage-by-service.mjs [reports/coverage/lcov.info]
import { readFileSync } from 'node:fs';

/**
 * Lines and branches covered (%), per service. Measured on main at b3fef71 (5 Dec 2026), with
 * coverage taken from the mocha process only (test/helpers/root-hooks.ts says why): shared
 * 88.81/87.31, web 96.43/86.42, transactions 96.33/86.54, jobs 58.76/87.01 (its cli.ts runs only
 * in child processes). The floors sit 1.5 points below, rounded down: two runs of one commit differ
 * a little (timing-dependent paths), while a lost test file costs several points.
 */
const FLOORS = {
  shared: { lines: 87, branches: 85 },
  web: { lines: 94, branches: 84 },
  transactions: { lines: 94, branches: 85 },
  jobs: { lines: 57, branches: 85 },
};

const lcovPath = process.argv[2] ?? 'reports/coverage/lcov.info';

function serviceOf(file) {
  const match = /(?:^|\/)services\/([^/]+)\/src\//.exec(file);
  return match?.[1];
}

function totalsByService(lcov) {
  const totals = {};
  let service;
  for (const line of lcov.split('\n')) {
    const [key, value = ''] = line.split(':');
    if (key === 'SF') service = serviceOf(value);
    if (service === undefined) continue;
    const t = (totals[service] ??= { lf: 0, lh: 0, brf: 0, brh: 0 });
    if (key === 'LF') t.lf += Number(value);
    if (key === 'LH') t.lh += Number(value);
    if (key === 'BRF') t.brf += Number(value);
    if (key === 'BRH') t.brh += Number(value);
  }
  return totals;
}

const percent = (hit, found) => (found === 0 ? 100 : Math.floor((10000 * hit) / found) / 100);

let lcov;
try {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the report path the operator passes
  lcov = readFileSync(lcovPath, 'utf8');
} catch {
  console.error(`coverage: ${lcovPath} not found: run npm test first`);
  process.exit(2);
}

const totals = totalsByService(lcov);
const failures = [];
for (const [service, floor] of Object.entries(FLOORS)) {
  const t = totals[service];
  if (!t) {
    failures.push(`${service}: no file of this service in ${lcovPath}`);
    continue;
  }
  const lines = percent(t.lh, t.lf);
  const branches = percent(t.brh, t.brf);
  console.log(
    `coverage ${service.padEnd(12)} lines ${lines.toFixed(2)} % (floor ${floor.lines}) · ` +
      `branches ${branches.toFixed(2)} % (floor ${floor.branches})`,
  );
  if (lines < floor.lines) failures.push(`${service}: lines ${lines} % < floor ${floor.lines} %`);
  if (branches < floor.branches) failures.push(`${service}: branches ${branches} % < floor ${floor.branches} %`);
}
for (const failure of failures) console.error(`coverage below its floor: ${failure}`);
process.exit(failures.length === 0 ? 0 : 1);
