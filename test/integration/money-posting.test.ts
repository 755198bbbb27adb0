import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { newReference, nowIso, openAccount, type AccountRow } from '../../services/shared/src/accounts.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { fund, makeUser, migrate, type TestUser } from '../helpers/money-fixtures.js';

/**
 * The transfers_post trigger (migration 320), checked at the SQL level: what any code inserting a
 * transfer row gets from the database, whatever the application does.
 */
describeEachDatabase('a transfer row posts itself', ({ db }) => {
  let payer: TestUser;
  let payee: TestUser;
  let payerAccount: AccountRow;
  let payeeAccount: AccountRow;

  before(async () => {
    await migrate(db());
    const admin = await makeUser(db(), 'admin', true);
    payer = await makeUser(db(), 'payer');
    payee = await makeUser(db(), 'payee');
    await fund(db(), admin, payer.primary, '100.00');
    payerAccount = await account(db(), payer.primary);
    payeeAccount = await account(db(), payee.primary);
  });

  function row(overrides: Record<string, unknown>) {
    return {
      reference: newReference(),
      kind: 'transfer',
      initiated_by: payer.id,
      idempotency_key: randomUUID(),
      request_hash: 'test',
      status: 'succeeded',
      posted_by: 'database',
      from_account_id: payerAccount.id,
      to_account_id: payeeAccount.id,
      amount: 1_000,
      currency: 'EUR',
      label: 'Test',
      created_at: nowIso(),
      ...overrides,
    };
  }

  async function state() {
    return {
      payer: (await account(db(), payer.primary)).balance,
      payee: (await account(db(), payee.primary)).balance,
      payerUser: (await db()('users').where({ id: payer.id }).first<{ balance: unknown }>()).balance,
      transfers: Number((await db()('transfers').count<{ n: unknown }[]>({ n: '*' }).first())?.n),
      postings: Number((await db()('transactions').count<{ n: unknown }[]>({ n: '*' }).first())?.n),
    };
  }

  it('moves both balances and writes two postings that sum to zero, in the INSERT itself', async () => {
    const before = await state();
    const [inserted] = (await db()('transfers')
      .insert(row({ amount: 1_234 }))
      .returning(['id'])) as Array<{ id: number }>;
    const after = await state();
    expect(Number(after.payer)).to.equal(Number(before.payer) - 1_234);
    expect(Number(after.payee)).to.equal(Number(before.payee) + 1_234);
    expect(Number(after.payerUser)).to.equal(Number(after.payer));
    const postings: Array<{ account_id: string; amount: unknown; currency: string; type: string }> = await db()(
      'transactions',
    )
      .where({ transfer_id: inserted?.id })
      .orderBy('id')
      .select('account_id', 'amount', 'currency', 'type');
    expect(postings.map((p) => [p.account_id, Number(p.amount), p.currency, p.type])).to.deep.equal([
      [payer.primary, -1_234, 'EUR', 'transfer'],
      [payee.primary, 1_234, 'EUR', 'transfer'],
    ]);
  });

  it('leaves an older release’s row (posted_by not set) to that release: nothing moves twice', async () => {
    const before = await state();
    const legacy: Record<string, unknown> = row({});
    delete legacy.posted_by;
    await db()('transfers').insert(legacy);
    const after = await state();
    expect(after).to.deep.equal({ ...before, transfers: before.transfers + 1 });
  });

  it('moves nothing for a refused transfer row', async () => {
    const before = await state();
    await db()('transfers').insert(row({ status: 'failed', failure_status: 422, failure_code: 'x' }));
    expect(await state()).to.deep.equal({ ...before, transfers: before.transfers + 1 });
  });

  it('refuses the whole INSERT when the debit would overdraw, writing nothing', async () => {
    const before = await state();
    const error = await db()('transfers')
      .insert(row({ amount: Number(before.payer) + 1 }))
      .catch((err: unknown) => err);
    expect(String(error)).to.match(/accounts_no_overdraft/);
    expect(await state()).to.deep.equal(before);
  });

  it('refuses a row from an account to itself or across currencies, writing nothing', async () => {
    const usd = await db().transaction((trx) => openAccount(trx, payee.id, 'USD', 'current'));
    const before = await state();
    for (const bad of [{ to_account_id: payerAccount.id }, { to_account_id: usd.id }, { currency: 'USD' }]) {
      const error = await db()('transfers')
        .insert(row(bad))
        .catch((err: unknown) => err);
      expect(String(error), JSON.stringify(bad)).to.match(/two different/);
    }
    expect(await state()).to.deep.equal(before);
  });
});

async function account(db: Knex, number: string): Promise<AccountRow> {
  const found = await db<AccountRow>('accounts').where({ number }).first();
  if (!found) throw new Error(`no account ${number}`);
  return found;
}
