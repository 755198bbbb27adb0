import type { Knex } from 'knex';
import type { Queryable } from '#shared/db.js';
import { toIso } from '#shared/timestamps.js';
import type { JournalEntryView, TrialBalance } from '#shared/contract/api.js';
import { CURRENCIES, formatCents, type Currency } from '#shared/contract/money.js';
import { BANK_NAME, type Page } from './history.js';

// The journal is the table `transactions` (the original spec's name, kept because the other
// colour reads it during a flip): two append-only postings per accepted movement.

/** The double-entry journal (every posting of every account), newest first. */
export async function journalPage(
  db: Queryable,
  { page, pageSize }: Page,
): Promise<{ entries: JournalEntryView[]; hasNext: boolean }> {
  const rows: Array<{
    id: number;
    reference: string | null;
    created_at: string | Date;
    account_id: string;
    username: string | null;
    amount: number | string;
    currency: Currency;
    type: string;
    label: string | null;
  }> = await db('transactions as t')
    .leftJoin('transfers as tr', 'tr.id', 't.transfer_id')
    .leftJoin('accounts as a', 'a.number', 't.account_id')
    .leftJoin('account_holders as u', 'u.id', 'a.user_id')
    .orderBy('t.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
    .select(
      't.id',
      'tr.reference',
      't.created_at',
      't.account_id',
      'u.username',
      't.amount',
      't.currency',
      't.type',
      't.label',
    );
  return {
    entries: rows.slice(0, pageSize).map((r) => ({
      id: Number(r.id),
      reference: r.reference ?? '',
      createdAt: toIso(r.created_at),
      accountNumber: r.account_id,
      owner: r.username ?? BANK_NAME,
      amount: formatCents(r.amount),
      currency: r.currency,
      type: r.type,
      label: r.label ?? '',
    })),
    hasNext: rows.length > pageSize,
  };
}

const big = (value: unknown): bigint => BigInt(String(value ?? 0));

/**
 * Debits (negative postings) and credits (positive postings) per currency, which must net to
 * zero, and every account's stored balance next to the sum of its postings, which must match.
 * Read in one transaction (one snapshot), so concurrent transfers cannot make it look unbalanced.
 */
export async function trialBalance(db: Knex): Promise<TrialBalance> {
  const read = async (trx: Knex.Transaction) => {
    const totals: Array<{ currency: Currency; debits: unknown; credits: unknown; net: unknown }> = await trx(
      'transactions',
    )
      .groupBy('currency')
      .select(
        'currency',
        trx.raw('coalesce(sum(case when amount < 0 then -amount else 0 end), 0) as debits'),
        trx.raw('coalesce(sum(case when amount > 0 then amount else 0 end), 0) as credits'),
        trx.raw('coalesce(sum(amount), 0) as net'),
      );
    const accounts: Array<{
      number: string;
      username: string | null;
      currency: Currency;
      balance: unknown;
      journal: unknown;
    }> = await trx('accounts as a')
      .leftJoin('account_holders as u', 'u.id', 'a.user_id')
      .leftJoin('transactions as t', 't.account_id', 'a.number')
      .groupBy('a.id', 'a.number', 'u.username', 'a.currency', 'a.balance')
      .orderBy('a.id')
      .select('a.number', 'u.username', 'a.currency', 'a.balance', trx.raw('coalesce(sum(t.amount), 0) as journal'));
    return { totals, accounts };
  };
  const { totals, accounts } =
    db.client.config.client === 'pg'
      ? await db.transaction(read, { isolationLevel: 'repeatable read', readOnly: true })
      : await db.transaction(read);

  const currencies = CURRENCIES.map((currency) => {
    const row = totals.find((t) => t.currency === currency);
    return { currency, debits: big(row?.debits), credits: big(row?.credits), net: big(row?.net) };
  });
  const balanceSums = new Map<Currency, bigint>();
  for (const a of accounts) balanceSums.set(a.currency, (balanceSums.get(a.currency) ?? 0n) + big(a.balance));
  const balanced =
    currencies.every((c) => c.net === 0n && (balanceSums.get(c.currency) ?? 0n) === 0n) &&
    accounts.every((a) => big(a.balance) === big(a.journal));
  return {
    currencies: currencies.map((c) => ({
      currency: c.currency,
      debits: formatCents(c.debits),
      credits: formatCents(c.credits),
      net: formatCents(c.net),
    })),
    balanced,
    accounts: accounts.map((a) => ({
      number: a.number,
      owner: a.username ?? BANK_NAME,
      currency: a.currency,
      balance: formatCents(big(a.balance)),
      journalBalance: formatCents(big(a.journal)),
    })),
  };
}
