import { expect } from 'chai';
import type { Knex } from 'knex';
import { checkAdminPassword, refusePublicDemoCustomers, seedProdUsers } from '#jobs/prod-users.js';
import { seedDatabase } from '#jobs/seed.js';
import { trialBalance } from '#transactions/ledger/journal.js';
import { createPasswordHasher } from '#web/auth/passwords.js';
import { findUserByUsername } from '#web/auth/users.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { readScryptParams } from '#web/config.js';
import { migrate, silentLogger, TEST_ENV } from '../../helpers/fixtures.js';

const hasher = createPasswordHasher(readScryptParams(TEST_ENV), { concurrency: 1, maxQueue: 10, maxWaitMs: 10_000 });
const ADMIN_PASSWORD = 'a3f9c1d27e8b4f60a3f9c1d27e8b4f60';

/** PROD's database job (SEED_ADMIN_PASSWORD=stdin): no published password where PROD is reachable. */
function loginCheck(db: () => Knex) {
  return async (username: string, password: string) => {
    const row = await findUserByUsername(db(), username);
    return row !== undefined && hasher.verify(row.password_hash, password);
  };
}

describeEachDatabase('PROD users (database job): a new database', ({ db }) => {
  const logsIn = loginCheck(db);
  it("creates admin with the deploy's password, and the demo customers only when allowed", async () => {
    await migrate(db());
    const outcome = await seedProdUsers(db(), hasher, silentLogger, {
      demoCustomers: 'no',
      readAdminPassword: () => `${ADMIN_PASSWORD}\n`,
    });
    expect(outcome).to.equal('created');
    expect(await logsIn('admin', ADMIN_PASSWORD)).to.equal(true);
    expect(await logsIn('admin', 'password123')).to.equal(false);
    expect(await findUserByUsername(db(), 'alice'), 'no demo customer beyond loopback').to.equal(undefined);
    const again = await seedProdUsers(db(), hasher, silentLogger, {
      demoCustomers: 'no',
      readAdminPassword: () => {
        throw new Error('the password is read only when it is needed');
      },
    });
    expect(again).to.equal('unchanged');
  });
});

describeEachDatabase('PROD users (database job): a new database on loopback', ({ db }) => {
  const logsIn = loginCheck(db);
  it('seeds the demo customers with their demo password on loopback (yes), admin still random', async () => {
    await migrate(db());
    await seedProdUsers(db(), hasher, silentLogger, { demoCustomers: 'yes', readAdminPassword: () => ADMIN_PASSWORD });
    expect(await logsIn('alice', 'password123')).to.equal(true);
    expect(await logsIn('admin', 'password123')).to.equal(false);
    expect((await trialBalance(db())).balanced).to.equal(true);
  });
});

describeEachDatabase('PROD users (database job): a database seeded before this rule', ({ db }) => {
  const logsIn = loginCheck(db);
  it('on a database seeded before this rule: rotates the public admin password, locks the demo customers (lock)', async () => {
    await migrate(db());
    await seedDatabase(db(), (p) => hasher.hash(p), silentLogger);
    const balanceBefore = (await findUserByUsername(db(), 'alice'))!.balance;
    const outcome = await seedProdUsers(db(), hasher, silentLogger, {
      demoCustomers: 'lock',
      readAdminPassword: () => ADMIN_PASSWORD,
    });
    expect(outcome).to.equal('rotated');
    expect(await logsIn('admin', ADMIN_PASSWORD)).to.equal(true);
    expect(await logsIn('admin', 'password123')).to.equal(false);
    for (const name of ['alice', 'bob', 'charlie']) expect(await logsIn(name, 'password123'), name).to.equal(false);
    expect((await findUserByUsername(db(), 'alice'))!.balance, 'their data stays').to.equal(balanceBefore);
  });
});

describeEachDatabase('PROD users (database job): a database seeded before this rule (beyond loopback)', ({ db }) => {
  it('refuses (no) while a demo customer still has the published password, naming them and the setting', async () => {
    await migrate(db());
    await seedDatabase(db(), (p) => hasher.hash(p), silentLogger);
    let message = '';
    try {
      await refusePublicDemoCustomers(db(), hasher);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.contain('alice, bob, charlie');
    expect(message).to.contain('PROD_DEMO_CUSTOMERS=false');
  });
});

describe('the admin password given on stdin', () => {
  it('is one line of 8 to 128 characters, never empty nor the demo password', () => {
    expect(checkAdminPassword(`${ADMIN_PASSWORD}\n`)).to.equal(ADMIN_PASSWORD);
    expect(() => checkAdminPassword('')).to.throw(/standard input/);
    expect(() => checkAdminPassword(undefined)).to.throw(/standard input/);
    expect(() => checkAdminPassword('short')).to.throw(/8 to 128/);
    expect(() => checkAdminPassword('password123')).to.throw(/demo password/);
  });
});
