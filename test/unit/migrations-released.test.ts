import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ALL_MIGRATIONS } from '#jobs/migrate.js';
import {
  filesRun,
  MANIFEST_PATH,
  MIGRATION_FILE,
  sha256,
  type ReleaseManifest,
} from '../helpers/released-migrations.js';

/**
 * A shipped migration is never edited: a database that applied it never runs it again, so an edit
 * would give a fresh database a schema no upgraded one has. What a migration runs is its file and
 * the repository files it imports (test/helpers/released-migrations.ts), and each released version's checksums of those
 * are in released.json. Paths are relative to the repository root, where mocha runs.
 */
const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as ReleaseManifest;
const read = (path: string) => readFileSync(path, 'utf8');
const reviewed = manifest.reviewed ?? [];

/** The migration files in the working tree, by name. */
function migrationFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const service of readdirSync('services')) {
    const dir = `services/${service}/src/migrations`;
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      const match = MIGRATION_FILE.exec(`${dir}/${file}`);
      if (match) files.set(match[1]!, `${dir}/${file}`);
    }
  }
  return files;
}

/** What is wrong with `release` today, one sentence per file; empty when nothing. */
function changedSince(release: ReleaseManifest['releases'][number]): string[] {
  const onDisk = migrationFiles();
  // Which of the release's migrations run a file (read from today's migration files, which this
  // test also holds unchanged).
  const runners = (path: string) =>
    release.migrations.filter((name) => {
      const file = onDisk.get(name);
      if (!file) return false;
      try {
        return path in filesRun([file], read);
      } catch {
        return true;
      }
    });
  const problems: string[] = [];
  const current = new Set(ALL_MIGRATIONS.map(([name]) => name));
  for (const name of release.migrations) {
    if (!current.has(name)) {
      problems.push(`migration ${name} is no longer in the list the migrate job applies: add a new migration instead`);
    }
  }
  for (const [path, checksum] of Object.entries(release.files)) {
    const isMigration = MIGRATION_FILE.test(path);
    const what = isMigration ? 'migration file' : `file run by ${runners(path).join(', ')}`;
    if (!existsSync(path)) {
      problems.push(`${path} (${what}) has disappeared: add a new migration instead`);
      continue;
    }
    const now = sha256(readFileSync(path));
    if (now === checksum) continue;
    if (isMigration) {
      problems.push(`${path} (${what}) has changed: add a new migration instead`);
    } else if (!reviewed.some((r) => r.path === path && r.sha256 === now)) {
      // An imported module also holds code the services run (db.ts: the pool; audit.ts: the
      // sealer): it may grow, once someone has checked that what the migrations call is unchanged.
      problems.push(
        `${path} (${what}) has changed: move the change out of this file, or add a new migration, or, ` +
          `if it cannot alter what those migrations do, record your review in released.json "reviewed": ` +
          `{ "path": "${path}", "sha256": "${now}", "why": "..." }`,
      );
    }
  }
  return problems;
}

describe('shipped migrations (released.json)', () => {
  it('records at least the release of 5 Dec 2026 (b3fef71)', () => {
    expect(manifest.releases.map((r) => r.commit.slice(0, 7))).to.include('b3fef71');
  });

  for (const release of manifest.releases) {
    it(`runs exactly what release ${release.commit.slice(0, 7)} (${release.landed}) ran`, () => {
      const problems = changedSince(release);
      expect(problems, `since release ${release.commit.slice(0, 7)}:\n  ${problems.join('\n  ')}\n`).to.deep.equal([]);
    });
  }

  it('the migrate job applies exactly the migration files of the tree (what a release records)', () => {
    expect(ALL_MIGRATIONS.map(([name]) => name)).to.deep.equal([...migrationFiles().keys()].sort());
  });
});
