import { expect } from 'chai';
import { usernameKey } from '#shared/contract/usernames.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  makeUser,
  migrate,
  newKey,
  signedClient,
  transactionsApp,
  type SignedClient,
  type TestUser,
} from '../../helpers/fixtures.js';

/**
 * The transactions service sees users only through the web's view `account_holders`
 * (docs/ARCHITECTURE.md §2): a live view, not a copy, and nothing more than it needs.
 */
describeEachDatabase('account holders, the view of users the web gives the transactions service', ({ db }) => {
  let client: SignedClient;
  let holder: TestUser;

  before(async () => {
    await migrate(db());
    client = await signedClient(transactionsApp(db()));
    holder = await makeUser(db(), 'holder');
  });

  it('shows the id, name, name key and admin flag, never the password hash nor the balance', async () => {
    const row = (await db()('account_holders').where({ id: holder.id }).first()) as Record<string, unknown>;
    expect(Object.keys(row).sort()).to.deep.equal(['id', 'is_admin', 'username', 'username_key']);
    expect(row.username).to.equal(holder.username);
  });

  it('follows the users table at once: a new admin reads the journal, a new name receives deposits', async () => {
    expect((await client.get('/api/ledger/journal', holder.id)).status).to.equal(403);
    const renamed = `renamed_${holder.id}`;
    await db()('users')
      .where({ id: holder.id })
      .update({ is_admin: true, username: renamed, username_key: usernameKey(renamed) });

    expect((await client.get('/api/ledger/journal', holder.id)).status).to.equal(200);
    const deposit = await client.post('/api/deposits', holder.id, {
      idempotencyKey: newKey(),
      to: renamed.toUpperCase(),
      amount: '5.00',
    });
    expect(deposit.status, JSON.stringify(deposit.body)).to.equal(201);
    expect(deposit.body.deposit.toAccount).to.equal(holder.primary);
  });
});
