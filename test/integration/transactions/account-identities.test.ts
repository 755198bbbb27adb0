import { expect } from 'chai';
import type { Knex } from 'knex';
import { createDb } from '#shared/db.js';
import { accountIdentities } from '#transactions/ledger/account-identities.js';
import { describeEachDatabase, freshDatabase } from '../../helpers/databases.js';
import {
  balanceOf,
  fund,
  makeUser,
  migrate,
  newKey,
  signedClient,
  transactionsApp,
  type SignedClient,
  type TestUser,
} from '../../helpers/fixtures.js';

/**
 * The transfer path remembers the accounts it has read (ledger/account-identities.ts): what a
 * user sees must not change, only the number of statements a transfer costs.
 */
describeEachDatabase('accounts the transfer path remembers', ({ kind, db }) => {
  let client: SignedClient;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    await migrate(db());
    client = await signedClient(transactionsApp(db()));
    [alice, bob] = [await makeUser(db(), 'alice'), await makeUser(db(), 'bob')];
    await fund(db(), await makeUser(db(), 'admin', true), alice.primary, '100.00');
  });
  after(() => client.close());

  const transfer = (user: TestUser, fromAccount: string, to: string, amount: string) =>
    client.post('/api/transfers', user.id, { idempotencyKey: newKey(), fromAccount, to, amount });

  /** The SQL statements `action` sends to the database. */
  async function statementsOf(action: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const onQuery = (query: { sql: string }) => seen.push(query.sql);
    db().on('query', onQuery);
    try {
      await action();
    } finally {
      db().off('query', onQuery);
    }
    return seen;
  }

  it('sends a transfer between accounts it has seen with no read: one INSERT, which also writes its audit row', async () => {
    await transfer(alice, alice.primary, bob.primary, '1.00').expect(201);
    const statements = await statementsOf(() => transfer(alice, alice.primary, bob.primary, '2.50').expect(201));
    expect(statements).to.have.length(1);
    expect(statements[0]).to.match(/^insert into [`"]transfers[`"]/);
    expect(await balanceOf(db(), alice.primary)).to.equal('96.50');
    expect(await balanceOf(db(), bob.primary)).to.equal('3.50');
    const [audited] = await db()('audit_events').where({ event: 'transfer' }).orderBy('id', 'desc').limit(1);
    expect(JSON.parse(audited.details)).to.include({
      amount: '2.50',
      fromAccount: alice.primary,
      toAccount: bob.primary,
    });
  });

  it('still refuses to pay from a remembered account of someone else, moving nothing', async () => {
    await transfer(alice, alice.primary, bob.primary, '1.00').expect(201);
    const before = await balanceOf(db(), alice.primary);
    const res = await transfer(bob, alice.primary, bob.primary, '1.00').expect(403);
    expect(res.body.error.code).to.equal('not_your_account');
    expect(await balanceOf(db(), alice.primary)).to.equal(before);
  });

  it('still names the balance of a remembered account when it is short', async () => {
    const balance = await balanceOf(db(), alice.primary);
    const res = await transfer(alice, alice.primary, bob.primary, '5000.00').expect(422);
    expect(res.body.error.code).to.equal('insufficient_funds');
    expect(res.body.error.message).to.contain(`dispose de ${balance} EUR`);
  });

  it('pays an account opened after the others were remembered', async () => {
    const carol = await makeUser(db(), 'carol');
    await transfer(alice, alice.primary, carol.primary, '1.25').expect(201);
    expect(await balanceOf(db(), carol.primary)).to.equal('1.25');
  });

  it('keeps one memory per database: the same number in another database is that database’s account', async () => {
    const other = await freshDatabase(kind);
    const otherDb: Knex = createDb(other.url);
    try {
      await migrate(otherDb);
      const [mine] = await accountIdentities(db(), [alice.primary]);
      const stranger = await makeUser(otherDb, 'stranger');
      await otherDb('accounts').insert({
        number: alice.primary,
        user_id: stranger.id,
        currency: 'USD',
        kind: 'current',
        balance: 0,
        created_at: new Date().toISOString(),
      });
      const [theirs] = await accountIdentities(otherDb, [alice.primary]);
      expect(mine).to.include({ number: alice.primary, currency: 'EUR', kind: 'primary' });
      expect(theirs).to.include({ number: alice.primary, currency: 'USD', kind: 'current' });
      expect(Number(theirs?.user_id)).to.equal(stranger.id);
    } finally {
      await otherDb.destroy();
      other.cleanup();
    }
  });
});
