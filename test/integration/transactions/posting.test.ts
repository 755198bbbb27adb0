import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { nowIso } from '#shared/timestamps.js';
import type { AccountRow } from '#transactions/ledger/accounts.js';
import { newReference } from '#transactions/ledger/transfers.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { fund, makeUser, migrate, openCurrent, type TestUser } from '../../helpers/fixtures.js';

/**
 * The money rule of ledger/rules.ts (the transfers_post and accounts_no_overdraft triggers), checked at the SQL level: what any code inserting a
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

  it('refuses a succeeded row not posted by the database (the retired legacy path), writing nothing', async () => {
    const before = await state();
    const legacy: Record<string, unknown> = row({});
    delete legacy.posted_by;
    const error = await db()('transfers')
      .insert(legacy)
      .catch((err: unknown) => err);
    expect(String(error)).to.match(/transfers_posted_by_database/);
    expect(await state()).to.deep.equal(before);
  });

  it('refuses any direct balance update that would overdraw a customer account', async () => {
    const before = await state();
    const error = await db()('accounts')
      .where({ id: payerAccount.id })
      .update({ balance: -1 })
      .catch((err: unknown) => err);
    expect(String(error)).to.match(/accounts_no_overdraft/);
    expect(await state()).to.deep.equal(before);
  });

  it('refuses to change an account’s number, owner, currency or kind, leaving it as it was', async () => {
    const before = await account(db(), payer.primary);
    for (const change of [
      { number: 'FT9999999999' },
      { user_id: payee.id },
      { currency: 'USD' },
      { kind: 'current' },
    ]) {
      const error = await db()('accounts')
        .where({ id: payerAccount.id })
        .update(change)
        .catch((err: unknown) => err);
      expect(String(error), JSON.stringify(change)).to.match(/accounts_identity_fixed/);
    }
    expect(await account(db(), payer.primary)).to.deep.equal(before);
    // Writing the same values is no change, and the balance still moves.
    await db()('accounts').where({ id: payerAccount.id }).update({ currency: 'EUR', kind: 'primary' });
    await db()('transfers').insert(row({ amount: 1 }));
    expect(Number((await account(db(), payer.primary)).balance)).to.equal(Number(before.balance) - 1);
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
    const usd = await account(db(), await openCurrent(db(), payee.id, 'USD'));
    const before = await state();
    for (const [bad, rule] of [
      [{ to_account_id: payerAccount.id }, /transfers_two_accounts/],
      [{ to_account_id: usd.id }, /transfers_one_currency/],
      [{ currency: 'USD' }, /transfers_one_currency/],
    ] as const) {
      const error = await db()('transfers')
        .insert(row(bad))
        .catch((err: unknown) => err);
      expect(String(error), JSON.stringify(bad)).to.match(rule);
    }
    expect(await state()).to.deep.equal(before);
  });
});

async function account(db: Knex, number: string): Promise<AccountRow> {
  const found = await db<AccountRow>('accounts').where({ number }).first();
  if (!found) throw new Error(`no account ${number}`);
  return found;
}
