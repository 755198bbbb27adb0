import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import request from 'supertest';
import { ALL_MIGRATIONS, migrateDatabase } from '#jobs/migrate.js';
import { createDb } from '#shared/db.js';
import { SHARED_MIGRATIONS } from '#shared/migrations/index.js';
import { migrationSource } from '#shared/migrations/runner.js';
import { TRANSACTIONS_MIGRATIONS } from '#transactions/schema.js';
import { describeEachDatabase, freshDatabase } from '../../helpers/databases.js';
import { migrate, silentLogger, transactionsApp } from '../../helpers/fixtures.js';

const quick = { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 };

async function triggerNames(db: Knex, pg: boolean): Promise<string[]> {
  const rows: Array<{ name: string }> = pg
    ? (await db.raw(`select distinct tgname as name from pg_trigger where not tgisinternal order by 1`)).rows
    : await db.raw(`select name from sqlite_master where type = 'trigger' order by 1`);
  return rows.map((r) => r.name);
}

describeEachDatabase('the migrate job', ({ kind, db }) => {
  const pg = kind === 'PostgreSQL';

  it('creates the schema and the money rule, and a second run changes nothing', async () => {
    expect(await migrateDatabase(db(), silentLogger, quick)).to.deep.equal(ALL_MIGRATIONS.map(([name]) => name));
    for (const table of ['users', 'sessions', 'accounts', 'transfers', 'transactions']) {
      expect(await db().schema.hasTable(table), table).to.equal(true);
    }
    expect(await triggerNames(db(), pg)).to.include.members([
      'accounts_no_overdraft',
      'accounts_primary_balance_to_user',
      'transfers_post',
    ]);
    expect(await migrateDatabase(db(), silentLogger, quick)).to.deep.equal([]);
  });

  it('leaves alone a database a newer release migrated further (a rollback to this release)', async () => {
    await migrate(db());
    const newer = '29991231000000_from_a_newer_release';
    await db()('knex_migrations').insert({ name: newer, batch: 99, migration_time: new Date() });
    try {
      expect(await migrateDatabase(db(), silentLogger, quick)).to.deep.equal([]);
    } finally {
      await db()('knex_migrations').where({ name: newer }).delete();
    }
  });

  it('refuses a schema that is both behind and ahead of this release, naming both', async () => {
    const fresh = await freshDatabase(kind);
    const other = createDb(fresh.url);
    try {
      await other.migrate.up({ migrationSource: migrationSource(SHARED_MIGRATIONS) });
      await other('knex_migrations').insert({ name: '29991231000000_elsewhere', batch: 9, migration_time: new Date() });
      const err = await migrateDatabase(other, silentLogger, quick).catch((e: Error) => e);
      expect(String(err)).to.match(/diverged.*20261124000200_password_hash_255.*29991231000000_elsewhere/);
    } finally {
      await other.destroy();
      fresh.cleanup();
    }
  });

  it('a service on a database the job has not migrated answers /ready 503 schema_behind, then 200', async () => {
    const fresh = await freshDatabase(kind);
    const other = createDb(fresh.url);
    try {
      const app = transactionsApp(other).callback();
      const behind = await request(app).get('/ready').expect(503);
      expect(behind.body.error.code).to.equal('schema_behind');
      expect(behind.body.schema.missing).to.include('20261201000100_money_rule_in_one_module');
      const api = await request(app).get('/api/accounts').expect(503);
      expect(api.body.error.code).to.equal('schema_behind');
      await migrate(other);
      const ready = await request(app).get('/ready').expect(200);
      expect(ready.body.schema.required).to.equal(TRANSACTIONS_MIGRATIONS.at(-1)?.[0]);
    } finally {
      await other.destroy();
      fresh.cleanup();
    }
  });

  it('journal_mode=WAL, busy_timeout and foreign keys are on for SQLite connections', async function () {
    if (kind !== 'SQLite') {
      // PostgreSQL has no pragmas; assert instead that the server really is version 16.
      const row = await db().raw('show server_version');
      expect(String(row.rows[0].server_version)).to.match(/^16\./);
      return;
    }
    const mode = await db().raw('PRAGMA journal_mode');
    const busy = await db().raw('PRAGMA busy_timeout');
    const fk = await db().raw('PRAGMA foreign_keys');
    expect(mode[0].journal_mode).to.equal('wal');
    expect(busy[0].timeout).to.equal(5000);
    expect(fk[0].foreign_keys).to.equal(1);
  });
});

/**
 * The release on main (the other colour during the first flip to this release, and the colour a
 * rollback returns to) runs on the schema this release's job leaves: the database that release
 * created is upgraded in place, and rows written the way that release writes them behave as it
 * expects (posted by the database; an overdraft refused with the constraint name it looks for).
 */
describeEachDatabase('upgrading the schema of the release on main', ({ kind, db }) => {
  const pg = kind === 'PostgreSQL';
  let alice: { id: number; account: number };
  let bob: { id: number; account: number };

  async function userWithAccount(name: string, balance: number) {
    // What that release's registration does: a user row, then the primary account in SQL.
    const [user] = (await db()('users')
      .insert({ username: `${name}_${randomUUID().slice(0, 6)}`, password_hash: 'x', balance: 0, is_admin: false })
      .returning(['id'])) as Array<{ id: number }>;
    const [account] = (await db()('accounts')
      .insert({
        number: `FT${String(Date.now() % 1e9).padStart(9, '0')}${balance > 0 ? 1 : 2}`,
        user_id: user!.id,
        currency: 'EUR',
        kind: 'primary',
        balance: 0,
        created_at: new Date().toISOString(),
      })
      .returning(['id'])) as Array<{ id: number }>;
    if (balance > 0)
      await db()('transfers').insert(row({ from: 1, to: account!.id, amount: balance, kind: 'deposit' }));
    return { id: Number(user!.id), account: Number(account!.id) };
  }

  function row(t: { from: number; to: number; amount: number; kind?: string; postedBy?: string | null }) {
    return {
      reference: `TRX-${randomUUID().slice(0, 12).toUpperCase()}`,
      kind: t.kind ?? 'transfer',
      initiated_by: null,
      idempotency_key: randomUUID(),
      request_hash: 'h',
      status: 'succeeded',
      ...(t.postedBy === null ? {} : { posted_by: t.postedBy ?? 'database' }),
      from_account_id: t.from,
      to_account_id: t.to,
      amount: t.amount,
      currency: 'EUR',
      label: 'Virement',
      created_at: new Date().toISOString(),
    };
  }

  const balance = async (id: number) => Number((await db()('accounts').where({ id }).first()).balance);

  before(async () => {
    // Exactly the migrations the release on main knows, then a user it registered and funded.
    await db().migrate.latest({ migrationSource: migrationSource(SHARED_MIGRATIONS) });
    alice = await userWithAccount('alice', 100_00);
    bob = await userWithAccount('bob', 0);
    await migrate(db());
  });

  it('keeps the balances and replaces the old triggers by the money rule', async () => {
    expect(await balance(alice.account)).to.equal(100_00);
    const triggers = await triggerNames(db(), pg);
    expect(triggers).to.include.members(['accounts_no_overdraft', 'transfers_post']);
    expect(triggers).to.include(pg ? 'journal_append_only' : 'journal_append_only_update');
    for (const old of ['transactions_append_only', 'transactions_no_update', 'transactions_no_delete']) {
      expect(triggers).to.not.include(old);
    }
  });

  it('posts a row inserted as that release inserts it, and refuses an overdraft the way it recognises', async () => {
    await db()('transfers').insert(row({ from: alice.account, to: bob.account, amount: 30_00 }));
    expect([await balance(alice.account), await balance(bob.account)]).to.deep.equal([70_00, 30_00]);
    const users = await db()('users').whereIn('id', [alice.id, bob.id]).orderBy('id').select('balance');
    expect(users.map((u: { balance: unknown }) => Number(u.balance))).to.deep.equal([70_00, 30_00]);

    const err = (await db()('transfers')
      .insert(row({ from: alice.account, to: bob.account, amount: 70_01 }))
      .catch((e: unknown) => e)) as { code?: string; constraint?: string; message?: string };
    // That release's isOverdraft(): 23514 + constraint on PostgreSQL, SQLITE_CONSTRAINT + the name on SQLite.
    if (pg) expect(err).to.include({ code: '23514', constraint: 'accounts_no_overdraft' });
    else expect(err.code === 'SQLITE_CONSTRAINT' && /accounts_no_overdraft/.test(String(err.message))).to.equal(true);
    expect(await balance(alice.account)).to.equal(70_00);
  });

  it('refuses a row of a release older than migration 320 (posted_by left to its default), moving nothing', async () => {
    const err = await db()('transfers')
      .insert(row({ from: alice.account, to: bob.account, amount: 1_00, postedBy: null }))
      .catch((e: unknown) => e);
    expect(String(err)).to.match(/transfers_posted_by_database/);
    expect(await balance(alice.account)).to.equal(70_00);
  });
});

describe('password_hash widening on a legacy PostgreSQL table', function () {
  this.timeout(60_000);

  it('turns VARCHAR(128) into VARCHAR(255), keeps the rows, and accepts a 255-character hash', async () => {
    const fresh = await freshDatabase('PostgreSQL');
    const legacy = createDb(fresh.url);
    try {
      // The table as the first Flask version left it.
      await legacy.raw(
        'CREATE TABLE users (id SERIAL PRIMARY KEY, username VARCHAR(80) UNIQUE NOT NULL, password_hash VARCHAR(128))',
      );
      await legacy('users').insert([{ username: 'old_user', password_hash: 'pbkdf2:sha256:short' }]);
      await legacy('users')
        .insert({ username: 'too_long_before', password_hash: 'h'.repeat(255) })
        .then(
          () => expect.fail('the legacy column should have refused 255 characters'),
          (err: Error) => expect(err.message).to.match(/value too long/),
        );
      await migrate(legacy);
      const column = await legacy('information_schema.columns')
        .where({ table_name: 'users', column_name: 'password_hash' })
        .first('data_type', 'character_maximum_length');
      expect(column).to.deep.equal({ data_type: 'character varying', character_maximum_length: 255 });
      await legacy('users').insert({ username: 'long_hash', password_hash: 'h'.repeat(255) });
      const old = await legacy('users').where({ username: 'old_user' }).first();
      expect(old.password_hash).to.equal('pbkdf2:sha256:short');
    } finally {
      await legacy.destroy();
      fresh.cleanup();
    }
  });
});
