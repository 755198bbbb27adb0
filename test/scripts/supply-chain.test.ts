/**
 * The supply-chain stages on scratch copies: `secrets` (scripts/ci/secrets.mjs, secretlint with its
 * recommended preset) on a shallow clone of this repository, clean then with a planted key (in the
 * working tree, then only in the history); `licences` (scripts/ci/licences.mjs) on a throwaway
 * project tree; scripts/ci/tools.sh on a tool set that cannot be installed.
 * The real tools are used (installed by scripts/ci/tools.sh scan from the npm registry when absent).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
}

const scanSecrets = (repo: string) => run('node', [path.join(ROOT, 'scripts/ci/secrets.mjs'), repo]);

describe('supply chain: secrets, licences, tool installation', function () {
  this.timeout(180_000);
  const scratch = mkdtempSync(path.join(tmpdir(), 'bank-supply-chain-'));

  before(function () {
    const tools = run('bash', ['scripts/ci/tools.sh', 'scan']);
    if (tools.code !== 0) throw new Error(`scripts/ci/tools.sh scan failed:\n${tools.output}`);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  describe('secrets stage (scripts/ci/secrets.mjs)', () => {
    let clone = '';
    before(() => {
      clone = path.join(scratch, 'clone');
      // Shallow: the stage itself scans the whole history; here the planted commits are what matter.
      execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, clone]);
      git(clone, 'config', 'user.email', 'test@example.invalid');
      git(clone, 'config', 'user.name', 'Secrets test');
    });

    it('passes on the repository as committed, example env files and their placeholders included', () => {
      for (const target of ['uat', 'prod']) {
        // The placeholders the stage must accept are really there (a password inside a database URL).
        const example = readFileSync(path.join(clone, `compose/.env.${target}.example`), 'utf8');
        expect(example).to.match(/^DATABASE_URL=postgresql:\/\/bank:change-me-[a-z-]+@db:5432\//m);
      }
      const result = scanSecrets(clone);
      expect(result.output).to.match(/secrets: \d+ file\(s\) of the working tree .* 0 finding\(s\)/);
      expect(result.code, result.output).to.equal(0);
    });

    it('fails on a private key planted in the working tree, naming the file', () => {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const planted = path.join(clone, 'compose/deploy_key.pem');
      writeFileSync(planted, privateKey);
      try {
        const result = scanSecrets(clone);
        expect(result.code, result.output).to.equal(1);
        expect(result.output).to.match(/secrets: FOUND compose\/deploy_key\.pem:1 \(working tree\).*privatekey/i);
        // Masked: the key itself never reaches the output.
        expect(result.output).to.not.contain(privateKey.split('\n')[1]);
      } finally {
        unlinkSync(planted);
      }
    });

    it('fails on a token that was committed then deleted: found in the history, with its commit', () => {
      const token = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'a').slice(0, 36)}`;
      const file = path.join(clone, 'scripts/ci/notify.env');
      writeFileSync(file, `GITHUB_TOKEN=${token}\n`);
      git(clone, 'add', 'scripts/ci/notify.env');
      git(clone, 'commit', '--quiet', '-m', 'Add the notification token');
      const added = git(clone, 'rev-parse', '--short', 'HEAD');
      git(clone, 'rm', '--quiet', 'scripts/ci/notify.env');
      git(clone, 'commit', '--quiet', '-m', 'Remove the notification token');

      const result = scanSecrets(clone);
      expect(result.code, result.output).to.equal(1);
      expect(result.output).to.match(
        new RegExp(`secrets: FOUND scripts/ci/notify\\.env:1 \\(history, commit ${added} .*github`, 'i'),
      );
      expect(result.output).to.not.match(/notify\.env.*\(working tree\)/);
      expect(result.output).to.not.contain(token);
    });
  });

  describe('licences stage (scripts/ci/licences.mjs)', () => {
    /** A project whose node_modules holds the given production and development packages. */
    function project(name: string, prod: Record<string, string>, dev: Record<string, string>): string {
      const dir = path.join(scratch, name);
      const version = (deps: Record<string, string>) => Object.fromEntries(Object.keys(deps).map((d) => [d, '1.0.0']));
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({ name, version: '1.0.0', dependencies: version(prod), devDependencies: version(dev) }),
      );
      for (const [pkg, license] of Object.entries({ ...prod, ...dev })) {
        mkdirSync(path.join(dir, 'node_modules', pkg), { recursive: true });
        writeFileSync(
          path.join(dir, 'node_modules', pkg, 'package.json'),
          JSON.stringify({ name: pkg, version: '1.0.0', license }),
        );
      }
      return dir;
    }
    const licences = (dir: string) => run('node', [path.join(ROOT, 'scripts/ci/licences.mjs'), dir]);

    it('fails on a production dependency under a licence outside the allow-list, naming the package', () => {
      const dir = project(
        'forbidden',
        { 'ledger-core': 'MIT', 'dual-licensed': '(MIT OR GPL-3.0-only)', 'server-side-pool': 'SSPL-1.0' },
        {},
      );
      const result = licences(dir);
      expect(result.code, result.output).to.equal(1);
      expect(result.output).to.contain(
        'licences: REFUSED server-side-pool@1.0.0: licence "SSPL-1.0" (not in the allow-list) at node_modules/server-side-pool',
      );
      expect(result.output).to.match(/3 production package\(s\).*1 refused/);
      expect(result.output).to.not.match(/REFUSED (ledger-core|dual-licensed)/);
      const report = JSON.parse(readFileSync(path.join(dir, 'reports/licences.json'), 'utf8')) as {
        packages: Array<{ name: string; problem: string }>;
      };
      expect(report.packages.filter((p) => p.problem).map((p) => p.name)).to.deep.equal(['server-side-pool']);
    });

    it('passes when only development tools carry other licences, and refuses a package with none', () => {
      const clean = licences(project('dev-only', { 'ledger-core': 'MIT' }, { 'copyleft-linter': 'GPL-3.0-only' }));
      expect(clean.code, clean.output).to.equal(0);
      expect(clean.output).to.match(/1 production package\(s\): MIT 1; 0 refused/);

      const unlicensed = licences(project('no-licence', { 'mystery-lib': '' }, {}));
      expect(unlicensed.code, unlicensed.output).to.equal(1);
      expect(unlicensed.output).to.contain('REFUSED mystery-lib@1.0.0: licence "" (no licence declared)');
    });
  });

  it('scripts/ci/tools.sh names the package it could not install and exits 1', () => {
    const toolsRoot = path.join(scratch, 'tools');
    const dir = path.join(toolsRoot, 'broken');
    mkdirSync(dir, { recursive: true });
    const dependencies = { 'bank-missing-tool': 'file:./not-there' };
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'broken', version: '1.0.0', dependencies }));
    writeFileSync(
      path.join(dir, 'package-lock.json'),
      JSON.stringify({ name: 'broken', lockfileVersion: 3, requires: true, packages: { '': { dependencies } } }),
    );
    const result = run('bash', ['scripts/ci/tools.sh', 'broken'], { TOOLS_ROOT: toolsRoot });
    expect(result.code, result.output).to.equal(1);
    expect(result.output).to.contain('tools broken: could not install: bank-missing-tool@file:./not-there');
  });
});
