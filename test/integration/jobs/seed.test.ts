import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { SchemaNotMigratedError, seedDatabase } from '#jobs/seed.js';
import { SHARED_MIGRATIONS } from '#shared/migrations/index.js';
import { migrationSource } from '#shared/migrations/runner.js';
import { trialBalance } from '#transactions/ledger/journal.js';
import { OPENING_BALANCES } from '#transactions/ledger/seed.js';
import { SEED_USERS } from '#web/seed.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { balanceOf, migrate, silentLogger } from '../../helpers/fixtures.js';

describeEachDatabase('opening balances enter the books as deposits', ({ db }) => {
  it('seeds the demo users with primary accounts funded from settlement, books balanced', async () => {
    await migrate(db());
    expect(await seedDatabase(db(), async () => 'seed-hash', silentLogger)).to.equal(SEED_USERS.length);
    for (const seed of SEED_USERS) {
      const rows = await db()('accounts as a')
        .join('users as u', 'u.id', 'a.user_id')
        .where('u.username', seed.username)
        .select('a.number', 'a.kind', 'a.currency', 'a.balance', 'u.balance as user_balance');
      expect(rows, seed.username).to.have.length(1);
      expect(rows[0]).to.include({ kind: 'primary', currency: 'EUR' });
      expect(Number(rows[0].balance)).to.equal(OPENING_BALANCES[seed.username] ?? 0);
      expect(Number(rows[0].user_balance)).to.equal(OPENING_BALANCES[seed.username] ?? 0);
    }
    expect(await balanceOf(db(), 'FT0000000001')).to.equal('-1750.00');
    const trial = await trialBalance(db());
    expect(trial.balanced).to.equal(true);
    expect(trial.currencies.find((c) => c.currency === 'EUR')).to.deep.equal({
      currency: 'EUR',
      debits: '1750.00',
      credits: '1750.00',
      net: '0.00',
    });
    expect(await seedDatabase(db(), async () => 'seed-hash', silentLogger)).to.equal(0);
  });
});

describeEachDatabase('migrating a database that already has users', ({ db }) => {
  it('gives each existing user a primary account holding their balance, as an opening deposit', async () => {
    await db().migrate.up({ migrationSource: migrationSource(SHARED_MIGRATIONS) });
    await db().migrate.up({ migrationSource: migrationSource(SHARED_MIGRATIONS) });
    await db()('users').insert([
      { username: 'legacy_rich', password_hash: 'x', balance: 123_45, is_admin: false },
      { username: 'legacy_empty', password_hash: 'x', balance: 0, is_admin: false },
    ]);
    await migrate(db());
    const accounts = await db()('accounts as a')
      .join('users as u', 'u.id', 'a.user_id')
      .orderBy('u.username')
      .select('u.username', 'a.kind', 'a.balance', 'u.balance as user_balance');
    expect(accounts.map((a) => [a.username, a.kind, Number(a.balance), Number(a.user_balance)])).to.deep.equal([
      ['legacy_empty', 'primary', 0, 0],
      ['legacy_rich', 'primary', 123_45, 123_45],
    ]);
    const trial = await trialBalance(db());
    expect(trial.balanced).to.equal(true);
    expect(trial.currencies.find((c) => c.currency === 'EUR')?.credits).to.equal('123.45');
  });
});

describeEachDatabase('seeding a database that was never migrated', ({ db }) => {
  it('refuses, saying to run npm run db:migrate first, and creates nothing', async () => {
    const error = await seedDatabase(db(), async () => 'seed-hash', silentLogger).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(SchemaNotMigratedError);
    expect((error as Error).message).to.match(/not migrated yet .*run `npm run db:migrate` first/);
    expect(await db().schema.hasTable('users')).to.equal(false);
  });
});

describe('npm run db:seed on an empty SQLite file', function () {
  this.timeout(60_000);
  it('exits 1 with one line that says to migrate first (not "no such table")', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seed-cli-'));
    try {
      const root = fileURLToPath(new URL('../../..', import.meta.url));
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/jobs/src/cli.ts', 'seed'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: `sqlite:///${path.join(dir, 'empty.db')}`, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      });
      expect(result.status, result.stderr).to.equal(1);
      expect(result.stderr).to.contain('[jobs] the database is not migrated yet');
      expect(result.stderr).to.contain('run `npm run db:migrate` first');
      expect(result.stderr + result.stdout).to.not.contain('no such table');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
