import type { Knex } from 'knex';

/**
 * Money movement: accounts, transfers (with their durable idempotency keys) and the journal.
 *
 * - `accounts` hold balances in cents. Two settlement accounts (one per currency, no owner) are
 *   the counterpart of every deposit, so the sum of all balances is always zero.
 * - `transfers` records every accepted or refused movement request; `(initiated_by,
 *   idempotency_key)` is unique, so a key is consumed once, durably.
 * - `transactions` (the original table) becomes the append-only journal of signed postings:
 *   `account_id` holds the account number, `user_id` the owner (NULL for settlement).
 *
 * Users that exist before this migration (a database left by an earlier version) get a primary
 * EUR account holding their `users.balance`, entered as an opening deposit from settlement, so the
 * books balance from the start.
 */
const SETTLEMENT = [
  { number: 'FT0000000001', currency: 'EUR' },
  { number: 'FT0000000002', currency: 'USD' },
] as const;

export async function up(knex: Knex): Promise<void> {
  const pg = knex.client.config.client === 'pg';

  await knex.schema.createTable('accounts', (t) => {
    t.increments('id').primary();
    t.string('number', 34).notNullable().unique();
    t.integer('user_id').nullable().references('id').inTable('users');
    t.string('currency', 3).notNullable();
    t.string('kind', 16).notNullable();
    t.bigInteger('balance').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['user_id', 'id']);
    t.check(`kind in ('primary', 'current', 'settlement')`, [], 'accounts_kind_check');
    t.check(`currency in ('EUR', 'USD')`, [], 'accounts_currency_check');
    // Last line of defence behind the conditional debit: only settlement may go below zero.
    t.check(`kind = 'settlement' or balance >= 0`, [], 'accounts_no_overdraft');
    t.check(`(kind = 'settlement') = (user_id is null)`, [], 'accounts_owner_check');
  });
  await knex.raw(`create unique index accounts_one_primary on accounts (user_id) where kind = 'primary'`);
  await knex.raw(`create unique index accounts_one_settlement on accounts (currency) where kind = 'settlement'`);

  await knex.schema.createTable('transfers', (t) => {
    t.increments('id').primary();
    t.string('reference', 32).notNullable().unique();
    t.string('kind', 16).notNullable();
    t.integer('initiated_by').nullable().references('id').inTable('users');
    t.string('idempotency_key', 128).notNullable();
    t.string('request_hash', 64).notNullable();
    t.string('status', 16).notNullable();
    t.integer('from_account_id').nullable().references('id').inTable('accounts');
    t.integer('to_account_id').nullable().references('id').inTable('accounts');
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).nullable();
    t.string('label', 140).nullable();
    t.integer('failure_status').nullable();
    t.string('failure_code', 64).nullable();
    t.string('failure_message', 300).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.unique(['initiated_by', 'idempotency_key'], { indexName: 'transfers_idempotency_key_unique' });
    t.check(`kind in ('transfer', 'deposit')`, [], 'transfers_kind_check');
    t.check(`status in ('pending', 'succeeded', 'failed')`, [], 'transfers_status_check');
    t.check(`amount > 0`, [], 'transfers_amount_check');
  });

  await knex.schema.alterTable('transactions', (t) => {
    t.integer('user_id').nullable().alter();
    t.integer('transfer_id').nullable().references('id').inTable('transfers');
    t.string('label', 140).nullable();
    t.index(['transfer_id']);
  });

  const now = new Date().toISOString();
  await knex('accounts').insert(
    SETTLEMENT.map((s) => ({ ...s, user_id: null, kind: 'settlement', balance: 0, created_at: now })),
  );
  await openAccountsForExistingUsers(knex, now);

  if (pg) {
    await knex.raw(`
      create function journal_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'the journal is append-only: % on transactions refused', tg_op;
      end $$`);
    await knex.raw(`create trigger transactions_append_only before update or delete on transactions
      for each row execute function journal_append_only()`);
    await knex.raw(`create trigger transactions_no_truncate before truncate on transactions
      for each statement execute function journal_append_only()`);
  } else {
    await knex.raw(`create trigger transactions_no_update before update on transactions
      begin select raise(abort, 'the journal is append-only: UPDATE on transactions refused'); end`);
    await knex.raw(`create trigger transactions_no_delete before delete on transactions
      begin select raise(abort, 'the journal is append-only: DELETE on transactions refused'); end`);
  }
}

async function openAccountsForExistingUsers(knex: Knex, now: string): Promise<void> {
  const users: Array<{ id: number; balance: number | string }> = await knex('users')
    .select('id', 'balance')
    .orderBy('id');
  const settlement = await knex('accounts')
    .where({ kind: 'settlement', currency: 'EUR' })
    .first<{ id: number; number: string }>();
  if (!settlement) throw new Error('settlement account missing');
  let settlementBalance = 0;
  for (const user of users) {
    const balance = Number(user.balance);
    const number = `FT${String(9_000_000_000 + Number(user.id)).padStart(10, '0')}`;
    const [account] = (await knex('accounts')
      .insert({ number, user_id: user.id, currency: 'EUR', kind: 'primary', balance, created_at: now })
      .returning(['id'])) as Array<{ id: number }>;
    if (!account || balance <= 0) continue;
    const [transfer] = (await knex('transfers')
      .insert({
        reference: `OPEN-${user.id}`,
        kind: 'deposit',
        initiated_by: null,
        idempotency_key: `opening-balance-${user.id}`,
        request_hash: 'opening-balance',
        status: 'succeeded',
        from_account_id: settlement.id,
        to_account_id: account.id,
        amount: balance,
        currency: 'EUR',
        label: 'Solde d’ouverture',
        created_at: now,
      })
      .returning(['id'])) as Array<{ id: number }>;
    if (!transfer) throw new Error('opening transfer not created');
    await knex('transactions').insert([
      {
        user_id: null,
        account_id: settlement.number,
        transfer_id: transfer.id,
        amount: -balance,
        currency: 'EUR',
        type: 'deposit',
        label: 'Solde d’ouverture',
        created_at: now,
      },
      {
        user_id: user.id,
        account_id: number,
        transfer_id: transfer.id,
        amount: balance,
        currency: 'EUR',
        type: 'deposit',
        label: 'Solde d’ouverture',
        created_at: now,
      },
    ]);
    settlementBalance -= balance;
  }
  if (settlementBalance !== 0)
    await knex('accounts').where({ id: settlement.id }).update({ balance: settlementBalance });
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('drop trigger if exists transactions_append_only on transactions');
    await knex.raw('drop trigger if exists transactions_no_truncate on transactions');
    await knex.raw('drop function if exists journal_append_only()');
  } else {
    await knex.raw('drop trigger if exists transactions_no_update');
    await knex.raw('drop trigger if exists transactions_no_delete');
  }
  await knex.schema.alterTable('transactions', (t) => {
    t.dropIndex(['transfer_id']);
    t.dropForeign(['transfer_id']);
    t.dropColumn('transfer_id');
    t.dropColumn('label');
  });
  await knex.schema.dropTable('transfers');
  await knex.schema.dropTable('accounts');
}
