/**
 * `npm run migrations:release -- <commit>...`: records in services/shared/src/migrations/released.json
 * what each given commit (a release: a commit that landed on main) runs when it migrates, read
 * from git: its migration names in order and the sha256 of every file they run (see
 * released-migrations.ts). Run it for each commit that lands on main with a
 * migration or a file a migration imports; recording a commit again replaces its entry.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { filesRun, MANIFEST_PATH, MIGRATION_FILE, type Release, type ReleaseManifest } from './released-migrations.js';

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

function release(ref: string): Release {
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`).trim();
  const landed = new Date(git('show', '-s', '--format=%cI', commit).trim()).toISOString();
  const paths = git('ls-tree', '-r', '--name-only', commit, 'services')
    .split('\n')
    .filter((path) => MIGRATION_FILE.test(path));
  const name = (path: string) => MIGRATION_FILE.exec(path)![1]!;
  paths.sort((a, b) => name(a).localeCompare(name(b)));
  return {
    commit,
    landed,
    migrations: paths.map(name),
    files: filesRun(paths, (path) => git('show', `${commit}:${path}`)),
  };
}

const refs = process.argv.slice(2);
if (refs.length === 0) {
  console.error('usage: npm run migrations:release -- <commit>...');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as ReleaseManifest;
for (const ref of refs) {
  const entry = release(ref);
  manifest.releases = [...manifest.releases.filter((r) => r.commit !== entry.commit), entry];
  console.log(
    `${entry.commit.slice(0, 7)} (${entry.landed}): ${entry.migrations.length} migrations, ${Object.keys(entry.files).length} files`,
  );
}
manifest.releases.sort((a, b) => a.landed.localeCompare(b.landed));
writeFileSync(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
