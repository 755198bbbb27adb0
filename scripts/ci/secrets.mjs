// Secret scanning: secretlint with its recommended preset (scripts/ci/tools/scan) over
//   1. the working tree: every file git tracks or would track (not ignored), as it is on disk;
//   2. the git history of HEAD: every version of every file ever committed on this branch, so a
//      key committed then deleted is still found (it stays in the history, readable by anyone who
//      clones).
// Rules and the few allowed values (the example env files' "change-me-…" placeholders, the test
// helpers' throwaway database password) are in scripts/ci/tools/scan/.secretlintrc.json.
// Secrets are masked in every output. Findings -> reports/secrets.json.
//
// Usage: node scripts/ci/secrets.mjs [REPO_DIR]   (default: this checkout)
//   Exit 0: no finding. 1: findings (one line each: where, which commit, which rule). 2: bad usage.
// Needs `scripts/ci/tools.sh scan` first (the `secrets` stage does both).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const toolsDir = path.join(here, 'tools/scan');
const secretlint = path.join(toolsDir, 'node_modules/.bin/secretlint');
const config = path.join(toolsDir, '.secretlintrc.json');
// Files too large to be anything but data, lock files (integrity hashes only) and images.
const SKIP = /(^|\/)package-lock\.json$|\.(png|jpe?g|gif|ico|woff2?|pdf)$/i;
const MAX_BYTES = 1_000_000;

const repo = path.resolve(process.argv[2] ?? root);
if (process.argv.length > 3 || !existsSync(path.join(repo, '.git'))) {
  console.error('usage: node scripts/ci/secrets.mjs [REPO_DIR] (a git checkout)');
  process.exit(2);
}
if (!existsSync(secretlint)) {
  console.error('secrets: secretlint is not installed; run scripts/ci/tools.sh scan');
  process.exit(1);
}

const git = (...args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

/** secretlint on files under `cwd` (relative paths), JSON findings [{ file, line, rule, message }]. */
function scan(cwd, files) {
  const findings = [];
  // The JSON report goes to a file: it holds each file's content (never printed), too large for a pipe.
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'secretlint-out-')), 'report.json');
  try {
    // Bounded argument lists (ARG_MAX), same config every time.
    for (let i = 0; i < files.length; i += 2000) {
      const run = spawnSync(
        secretlint,
        ['--secretlintrc', config, '--format', 'json', '--output', out, '--maskSecrets', ...files.slice(i, i + 2000)],
        { cwd, encoding: 'utf8' },
      );
      if ((run.status !== 0 && run.status !== 1) || !existsSync(out)) {
        console.error(`secrets: secretlint failed (exit ${run.status}): ${(run.stderr || '').slice(0, 2000)}`.trim());
        process.exit(1);
      }
      for (const result of JSON.parse(readFileSync(out, 'utf8') || '[]')) {
        for (const m of result.messages) {
          findings.push({
            file: path.relative(cwd, result.filePath),
            line: m.loc?.start?.line ?? 0,
            rule: `${m.ruleId}${m.messageId ? ` [${m.messageId}]` : ''}`,
            message: m.message,
          });
        }
      }
      rmSync(out, { force: true });
    }
  } finally {
    rmSync(path.dirname(out), { recursive: true, force: true });
  }
  return findings;
}

const started = Date.now();

// 1. Working tree.
const treeFiles = git('ls-files', '-z', '--cached', '--others', '--exclude-standard')
  .split('\0')
  .filter((f) => f && !SKIP.test(f) && existsSync(path.join(repo, f)));
const treeFindings = scan(repo, treeFiles).map((f) => ({ ...f, where: 'working tree' }));

// 2. History: each distinct blob reachable from HEAD, written as <blob>/<its path> so that rules
// keyed on file names still apply, then scanned in one go.
const objects = git('rev-list', '--objects', 'HEAD')
  .split('\n')
  .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)])
  .filter(([id, file]) => id && file && !SKIP.test(file));
const sizes = new Map(
  objects.length === 0
    ? []
    : execFileSync('git', ['-C', repo, 'cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], {
        input: objects.map(([id]) => id).join('\n'),
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .filter(([, type, size]) => type === 'blob' && Number(size) <= MAX_BYTES)
        .map(([id, , size]) => [id, Number(size)]),
);
const blobs = [];
const seen = new Set();
for (const [id, file] of objects) {
  if (!sizes.has(id) || seen.has(id)) continue;
  seen.add(id);
  blobs.push({ id, file });
}
const scratch = mkdtempSync(path.join(tmpdir(), 'secrets-history-'));
let historyFindings = [];
try {
  // All contents in one `git cat-file --batch`: "<id> blob <size>\n<content>\n" each, in order.
  const batch = execFileSync('git', ['-C', repo, 'cat-file', '--batch'], {
    input: blobs.map(({ id }) => id).join('\n'),
    maxBuffer: 1 << 30,
  });
  let offset = 0;
  for (const { id, file } of blobs) {
    const headerEnd = batch.indexOf(10, offset);
    const size = Number(batch.subarray(offset, headerEnd).toString('latin1').split(' ')[2]);
    const target = path.join(scratch, id, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, batch.subarray(headerEnd + 1, headerEnd + 1 + size));
    offset = headerEnd + 1 + size + 1;
  }
  historyFindings = scan(
    scratch,
    blobs.map(({ id, file }) => path.join(id, file)),
  ).map((f) => {
    const [id, ...rest] = f.file.split(path.sep);
    // The commit that added this content (the oldest one on HEAD whose diff holds the blob).
    const commit = git('log', '--reverse', '--format=%h %ad', '--date=short', `--find-object=${id}`, 'HEAD')
      .split('\n')[0]
      .trim();
    return { ...f, file: rest.join('/'), where: `history, commit ${commit || '?'} (blob ${id.slice(0, 12)})` };
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const findings = [...treeFindings, ...historyFindings];
mkdirSync(path.join(repo, 'reports'), { recursive: true });
writeFileSync(
  path.join(repo, 'reports/secrets.json'),
  `${JSON.stringify({ tool: 'secretlint', repo, findings }, null, 2)}\n`,
);
for (const f of findings) console.log(`secrets: FOUND ${f.file}:${f.line} (${f.where}): ${f.rule} ${f.message}`);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  `secrets: ${treeFiles.length} file(s) of the working tree and ${blobs.length} file version(s) of the history of HEAD scanned in ${seconds} s: ${findings.length} finding(s) -> reports/secrets.json`,
);
process.exit(findings.length === 0 ? 0 : 1);
