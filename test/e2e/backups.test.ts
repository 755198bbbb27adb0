/**
 * Restore drills on the real PROD stack (-p bank-prod, PostgreSQL 16 with its WAL archive):
 * scripts/db-backup.sh, scripts/db-restore.sh and the deploy's backup before migrations, each
 * drill printing its figures (durations, sizes, recovery point). One stack for every drill: it is
 * deployed once, and destroyed (down -v) by the drill that proves a restore survives that.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, ROOT, run, runOk, TempEnvFile, type RunResult } from './helpers/compose.js';
import { endProdSuite, PROD_URL, prodTestEnv, ProdView, runDeploy, sleep } from './helpers/deploy.js';
import { http } from './helpers/http.js';
import { CookieJar, getPage, login, submitForm } from './helpers/login.js';

// Drill 1 sends 500 transfers from one session within minutes: the per-session and per-user
// transfer limits (20 and 40 a minute) protect a real bank, not what these drills measure.
const envVars = prodTestEnv({ TRANSFER_MAX_PER_SESSION: '100000', TRANSFER_MAX_PER_USER: '100000' });
const envFile = new TempEnvFile(envVars);
const stateDir = mkdtempSync(path.join(tmpdir(), 'bank-e2e-backups-'));
const backupDir = path.join(stateDir, 'backups');
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', { ENV_FILE: envFile.path }, [
  'blue',
  'green',
]);
const view = new ProdView(prod);
const figures: string[] = [];
const PASSWORD = 'Drill-password-42';
const REGISTRY = '127.0.0.1:5005';
const REGISTRY_SH = path.join(ROOT, 'scripts/ci/cd-local-registry.sh');

const seconds = (ms: number) => (ms / 1000).toFixed(1);

function script(name: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run('bash', [path.join(ROOT, 'scripts', name), ...args], {
    env: { BANK_STATE_DIR: stateDir, ENV_FILE: envFile.path, ...env },
    timeoutMs: 900_000,
  });
}

async function scriptOk(name: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const result = await script(name, args, env);
  if (result.code !== 0)
    throw new Error(`${name} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function deployOk(env: Record<string, string> = {}): Promise<void> {
  const base = { ENV_FILE: envFile.path, BANK_STATE_DIR: stateDir, TARGET: 'prod', MODE: 'build', RUN_SMOKE: 'false' };
  const result = await runDeploy(base, env);
  if (result.code !== 0) throw new Error(`deploy exited ${result.code}:\n${result.output}`);
}

/** The service whose PostgreSQL is the primary (db_standby once the standby drill promoted it). */
let primaryService = 'db';

/** One query on the live PROD database (psql inside its container), rows as text. */
async function sql(query: string, service = primaryService): Promise<string> {
  const db = await prod.containerId(service);
  return (
    await runOk('docker', ['exec', '-u', 'postgres', db, 'psql', '-XAtq', '-U', 'bank', '-d', 'bankdb', '-c', query])
  ).trim();
}

const TABLES = ['users', 'accounts', 'transfers', 'transactions'] as const;

/** A digest of each ledger table, every row in id order. */
async function digests(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    out[table] = await sql(
      `select count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' order by t.id), '')) from ${table} t`,
    );
  }
  return out;
}

/** Trial balance per currency, journal per currency, accounts off their journal, users off their primary account. */
async function invariants(): Promise<string> {
  return sql(`select
    (select coalesce(sum(abs(s)), 0) from (select sum(balance) s from accounts group by currency) b) || ' ' ||
    (select coalesce(sum(abs(s)), 0) from (select sum(amount) s from transactions group by currency) j) || ' ' ||
    (select count(*) from accounts a where a.balance <> coalesce((select sum(amount) from transactions t where t.account_id = a.number), 0)) || ' ' ||
    (select count(*) from users u join accounts a on a.user_id = u.id and a.kind = 'primary' where u.balance <> a.balance)`);
}
const HOLDS = '0 0 0 0';

async function register(username: string): Promise<void> {
  const answer = await submitForm(PROD_URL, '/register', { username, password: PASSWORD }, new CookieJar());
  expect(answer.status, answer.body.slice(0, 300)).to.be.oneOf([200, 302, 303]);
}

/** One transfer through the web page, as a person sends it. */
async function transfer(jar: CookieJar, to: string, amount: string, label: string): Promise<void> {
  const page = await getPage(PROD_URL, '/transfer', jar);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const from = /<select id="fromAccount"[^>]*>\s*<option value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const body = new URLSearchParams({ _csrf: csrf, idempotencyKey: key, fromAccount: from, to, amount, label });
  const answer = await http(`${PROD_URL}/transfer`, {
    method: 'POST',
    headers: { Cookie: jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  expect(answer.status, answer.body.slice(0, 300)).to.equal(303);
}

/**
 * `count` transfers of 0.01-0.99 EUR from alice to the given users, one after the other in one
 * session (a session holds one CSRF form at a time, and logins are rate-limited per user);
 * labels prefix-i.
 */
async function transfers(count: number, to: string[], prefix: string): Promise<void> {
  const jar = await login(PROD_URL, 'alice', 'password123');
  for (let i = 0; i < count; i++) {
    await transfer(jar, to[i % to.length]!, `0.${String((i % 99) + 1).padStart(2, '0')}`, `${prefix}-${i}`);
  }
}

async function takeBackup(): Promise<{ file: string; ms: number; size: number }> {
  const started = Date.now();
  const result = await scriptOk('db-backup.sh', ['prod']);
  const file = result.stdout.trim().split('\n').at(-1)!;
  const manifest = readFileSync(file.replace(/\.tar\.gz$/, '.manifest'), 'utf8');
  return { file, ms: Date.now() - started, size: Number(/^size=(\d+)$/m.exec(manifest)?.[1]) };
}

async function volumeEntries(): Promise<string[]> {
  const db = await prod.containerId('db');
  return (await runOk('docker', ['exec', db, 'ls', '/var/lib/postgresql/data'])).trim().split('\n');
}

describe('Backups and restore drills (scripts/db-backup.sh, scripts/db-restore.sh)', function () {
  this.timeout(600_000);
  const users = Array.from({ length: 5 }, (_, i) => `drill${Date.now().toString(36)}${i}`);

  before(async function () {
    this.timeout(1_200_000);
    await prod.down(true);
    await deployOk();
  });

  after(async function () {
    this.timeout(120_000);
    await run('bash', [REGISTRY_SH, 'stop']);
    await endProdSuite('Restore drill figures', figures, { stack: prod, envFile, stateDir });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
  });

  it('refuses a truncated backup, an altered one and one of a newer schema, in one line, the live database untouched', async () => {
    await sql(
      `insert into knex_migrations (name, batch, migration_time) values ('29991231000000_from_the_future', 999, now())`,
    );
    const newer = await takeBackup();
    await sql(`delete from knex_migrations where name = '29991231000000_from_the_future'`);
    const good = await takeBackup();
    const before = await digests();

    const bad = mkdtempSync(path.join(stateDir, 'bad-'));
    const copy = (name: string, content: Buffer) => {
      const file = path.join(bad, `bank-prod-${name}.tar.gz`);
      writeFileSync(file, content, { mode: 0o600 });
      copyFileSync(good.file.replace(/\.tar\.gz$/, '.manifest'), file.replace(/\.tar\.gz$/, '.manifest'));
      return file;
    };
    const bytes = readFileSync(good.file);
    const truncated = copy('truncated', bytes.subarray(0, Math.floor(bytes.length / 2)));
    const altered = Buffer.from(bytes);
    altered[Math.floor(altered.length / 2)]! ^= 0xff;
    const flipped = copy('altered', altered);

    const cases: Array<[string, string[], RegExp]> = [
      ['truncated', ['prod', truncated], /truncated or replaced/],
      ['wrong checksum', ['prod', flipped], /does not match the sha256/],
      ['newer schema', ['prod', newer.file], /29991231000000_from_the_future.*newer than the live database/],
      [
        '--time in the future',
        ['prod', '--time', '2099-01-01 00:00:00+01'],
        /outside what can be restored: from .* to now/,
      ],
      ['a target not running', ['uat', 'latest'], /uat database is not running/],
      ['a missing BACKUP_DIR', ['prod', 'latest'], /BACKUP_DIR .* does not exist/],
    ];
    for (const [what, args, message] of cases) {
      const started = Date.now();
      const env: Record<string, string> = what === 'a missing BACKUP_DIR' ? { BACKUP_DIR: path.join(bad, 'nope') } : {};
      const result = await script('db-restore.sh', args, env);
      expect(result.code, `${what}: ${result.stderr}`).to.equal(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, `${what}: one line`).to.have.length(1);
      expect(lines[0], what).to.match(message);
      figures.push(`[refused] ${what} in ${seconds(Date.now() - started)} s: ${lines[0]}`);
    }
    expect(await digests(), 'the live tables').to.deep.equal(before);
    expect(
      (await volumeEntries()).filter((e) => /^(restore|previous)-/.test(e)),
      'nothing unpacked',
    ).to.deep.equal([]);
    expect(await sql(`select count(*) from knex_migrations where name like '2999%'`)).to.equal('0');
  });

  it('restores every account after the volume is destroyed (down -v): logins, balances, journal and transfers identical', async () => {
    const started = Date.now();
    for (const user of users) await register(user);
    await transfers(500, users, 'drill1');
    figures.push(
      `[drill 1] ${users.length} users registered, 500 transfers sent in ${seconds(Date.now() - started)} s`,
    );
    expect(await sql(`select count(*) from transfers where label like 'drill1-%' and status = 'succeeded'`)).to.equal(
      '500',
    );
    const before = await digests();
    expect(await invariants()).to.equal(HOLDS);
    const backup = await takeBackup();
    expect(readdirSync(backupDir).length, 'backup and manifest').to.be.at.least(2);
    expect(Number.parseInt((await runOk('stat', ['-c', '%a', backup.file])).trim(), 8) & 0o077, 'mode 600').to.equal(0);

    await prod.down(true);
    expect((await run('docker', ['volume', 'inspect', 'bank-prod_prod_pgdata'])).code, 'volume gone').not.to.equal(0);
    const redeploy = Date.now();
    await deployOk();
    const redeployMs = Date.now() - redeploy;
    expect(await sql(`select count(*) from transfers where label like 'drill1-%'`), 'a new, empty bank').to.equal('0');

    const restoreStarted = Date.now();
    const restore = await scriptOk('db-restore.sh', ['prod', backup.file]);
    const restoreMs = Date.now() - restoreStarted;
    expect(restore.stderr).to.match(
      /ledger checks on the restored copy: .*whose balances do not sum to 0: 0.*accounts off their journal lines: 0; users.balance off the primary account: 0/,
    );
    expect(await digests(), 'every table as it was backed up').to.deep.equal(before);
    expect(await invariants()).to.equal(HOLDS);
    for (const user of users) await login(PROD_URL, user, PASSWORD);
    expect(await view.servingColour()).to.be.oneOf(['blue', 'green']);
    expect(
      (await volumeEntries()).some((e) => e.startsWith('previous-')),
      'the emptied cluster is kept',
    ).to.equal(true);
    await scriptOk('db-restore.sh', ['prod', '--drop-previous']);
    expect(
      (await volumeEntries()).filter((e) => e.startsWith('previous-')),
      'dropped by the operator',
    ).to.deep.equal([]);
    const switched = /switched in ([\d.]+) s/.exec(restore.stderr)?.[1];
    figures.push(
      `[drill 1] backup of ${before.transfers!.split(' ')[0]} transfers: ${(backup.size / 1e6).toFixed(1)} MB in ${seconds(backup.ms)} s; ` +
        `redeploy of the empty stack ${seconds(redeployMs)} s; restore ${seconds(restoreMs)} s (services stopped ${switched} s); ` +
        `digests of ${TABLES.join(', ')} identical, ${users.length} logins OK, trial balance 0`,
    );
  });

  it('restores to a point in time: the transfers before it present, those after it absent, invariants holding', async () => {
    await takeBackup();
    await transfers(10, users, 'drill2a');
    await sleep(1500);
    const noted = new Date();
    await sleep(1500);
    await transfers(10, users, 'drill2b');
    // Recovery point: how long until the last acknowledged transfer is in the WAL archive
    // (archive_timeout = 60 s closes a segment that has any write).
    const lsn = await sql(`select pg_walfile_name(pg_current_wal_lsn())`);
    const waited = Date.now();
    while ((await sql(`select coalesce(last_archived_wal, '') from pg_stat_archiver`)) < lsn) {
      expect(Date.now() - waited, 'archived within archive_timeout').to.be.below(75_000);
      await sleep(500);
    }
    const rpoMs = Date.now() - waited;
    const started = Date.now();
    const restore = await scriptOk('db-restore.sh', ['prod', '--time', noted.toISOString()]);
    const restoreMs = Date.now() - started;
    expect(await sql(`select count(*) from transfers where label like 'drill2a-%'`), 'A present').to.equal('10');
    expect(await sql(`select count(*) from transfers where label like 'drill2b-%'`), 'B absent').to.equal('0');
    expect(await invariants()).to.equal(HOLDS);
    await login(PROD_URL, users[0]!, PASSWORD);
    const reference = await sql(`select reference from transfers where label = 'drill2a-5'`);
    const before = await scriptOk('db-restore.sh', ['prod', '--before-transfer', reference]);
    expect(await sql(`select count(*) from transfers where label like 'drill2a-%'`), 'up to TRX').to.be.oneOf(
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
    expect(await sql(`select count(*) from transfers where reference = '${reference}'`)).to.equal('0');
    expect(await invariants()).to.equal(HOLDS);
    figures.push(
      `[drill 2] last transfer archived ${seconds(rpoMs)} s after it was acknowledged (recovery point, archive_timeout 60 s); ` +
        `restore to ${noted.toISOString()} in ${seconds(restoreMs)} s: 10 transfers before present, 10 after absent; ` +
        `--before-transfer ${reference} in ${/restored prod to .* in ([\d.]+) s/.exec(before.stderr)?.[1]} s`,
    );
    expect(restore.stderr).to.contain('ledger checks on the restored copy');
  });

  it('a release whose migration fails: backup taken, the old colour still serves, the schema unchanged', async () => {
    await runOk('bash', [REGISTRY_SH, 'start']);
    const name = `${REGISTRY}/drill/bank`;
    const context = mkdtempSync(path.join(stateDir, 'bad-release-'));
    // The current release plus one migration that creates a table, then fails: the migrate job
    // runs migrations in a transaction, so nothing of it may stay.
    writeFileSync(
      path.join(context, 'Dockerfile'),
      [
        'FROM bank-transactions:local',
        'USER root',
        `RUN cd dist/services/shared/src/migrations && printf '%s\\n' 'export async function up(knex) {' ` +
          `'  await knex.schema.createTable("drill_half_applied", (t) => t.increments());' ` +
          `'  throw new Error("drill: this migration fails on purpose");' '}' 'export async function down() {}' ` +
          `> 29991231000000_drill_fails.js && sed -i 's#^\\];#  ["29991231000000_drill_fails", await import("./29991231000000_drill_fails.js")],\\n];#' index.js ` +
          '&& grep -q drill_fails index.js',
        'USER node',
      ].join('\n'),
    );
    await runOk('docker', ['build', '-q', '-t', `${name}-transactions:badmig`, context], { timeoutMs: 600_000 });
    await runOk('docker', ['tag', 'bank-web:local', `${name}-web:badmig`]);
    for (const service of ['web', 'transactions'])
      await runOk('docker', ['push', '-q', `${name}-${service}:badmig`], { timeoutMs: 600_000 });

    const active = await view.activeColour();
    const schema = await sql(`select string_agg(name, ',' order by name) from knex_migrations`);
    const backupsBefore = readdirSync(backupDir).filter((f) => f.endsWith('.tar.gz')).length;
    const base = {
      ENV_FILE: envFile.path,
      BANK_STATE_DIR: stateDir,
      TARGET: 'prod',
      MODE: 'image',
      RUN_SMOKE: 'false',
    };
    const result = await runDeploy(base, { IMAGE_NAME: name, IMAGE_TAG: 'badmig' });
    expect(result.code, result.output).to.equal(1);
    expect(result.output).to.match(/backup before the migrations of badmig: \S+\.tar\.gz/);
    expect(result.output).to.contain('drill: this migration fails on purpose');
    expect(readdirSync(backupDir).filter((f) => f.endsWith('.tar.gz')).length, 'one more backup').to.equal(
      backupsBefore + 1,
    );
    expect(await view.servingColour()).to.equal(active);
    expect(await sql(`select string_agg(name, ',' order by name) from knex_migrations`), 'schema unchanged').to.equal(
      schema,
    );
    expect(await sql(`select to_regclass('drill_half_applied') is null`), 'nothing half-applied').to.equal('t');
    figures.push(
      `[drill 5] release with a failing migration refused in ${result.seconds.toFixed(1)} s, backup taken first, ${active} still serves, schema unchanged`,
    );
  });

  it('standby: transfers reach it, it is read-only, and once promoted the bank serves from it with nothing acknowledged lost', async () => {
    let started = Date.now();
    const seeded = await scriptOk('db-standby.sh', ['prod', 'start']);
    const seedMs = Date.now() - started;
    expect(seeded.stderr).to.match(/standby streaming: \d+ bytes of WAL not yet replayed/);

    await transfers(20, users, 'drill3');
    started = Date.now();
    while ((await sql(`select count(*) from transfers where label like 'drill3-%'`, 'db_standby')) !== '20') {
      expect(Date.now() - started, 'replicated within 10 s').to.be.below(10_000);
      await sleep(100);
    }
    const replicatedMs = Date.now() - started;
    const readOnly = await run('docker', [
      'exec',
      '-u',
      'postgres',
      await prod.containerId('db_standby'),
      'psql',
      '-XAtq',
      '-U',
      'bank',
      '-d',
      'bankdb',
      '-c',
      `update users set balance = balance where false`,
    ]);
    expect(readOnly.code).not.to.equal(0);
    expect(readOnly.stderr).to.contain('read-only transaction');
    const status = await scriptOk('db-standby.sh', ['prod', 'status']);
    expect(status.stderr).to.match(/standby streaming: \d+ bytes of WAL not yet replayed, replay delay/);

    const acknowledged = await sql(`select count(*) from transfers`);
    const digest = await digests();
    await runOk('docker', ['stop', await prod.containerId('db')]);
    started = Date.now();
    const promoted = await scriptOk('db-promote.sh', ['prod']);
    const promoteMs = Date.now() - started;
    primaryService = 'db_standby';
    expect(await sql(`select pg_is_in_recovery()`)).to.equal('f');
    expect(await sql(`select count(*) from transfers`), 'every acknowledged transfer').to.equal(acknowledged);
    expect(await digests()).to.deep.equal(digest);
    await transfers(5, users, 'drill3-after');
    expect(await sql(`select count(*) from transfers where label like 'drill3-after-%'`)).to.equal('5');
    expect(await invariants()).to.equal(HOLDS);
    await login(PROD_URL, users[1]!, PASSWORD);
    figures.push(
      `[drill 3] standby seeded in ${seconds(seedMs)} s; 20 transfers visible on it ${seconds(replicatedMs)} s after the last was acknowledged; ` +
        `${status.stderr
          .trim()
          .split('\n')
          .at(-1)
          ?.replace(/^\[db-standby\] /, '')}; primary stopped, promoted and serving in ${seconds(promoteMs)} s, ` +
        `${acknowledged} transfers kept, 5 new transfers on it`,
    );
    expect(promoted.stderr).to.contain('PROD now runs on db_standby');
  });
});
