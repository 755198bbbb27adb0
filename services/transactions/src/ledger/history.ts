import type { Queryable } from '#shared/db.js';
import { toIso } from '#shared/timestamps.js';
import type { MovementView } from '#shared/contract/api.js';
import { formatCents, type Currency } from '#shared/contract/money.js';

export interface Page {
  page: number;
  pageSize: number;
}

interface MovementRow {
  id: number;
  created_at: string | Date;
  account_id: string;
  amount: number | string;
  currency: Currency;
  type: string;
  label: string | null;
  reference: string;
  counterparty_kind: string;
  counterparty_username: string | null;
}

export const BANK_NAME = 'Banque';

/**
 * Postings of the given accounts, newest first, read from the journal (table `transactions`, see
 * journal.ts). The counterparty is the account on the other side of the same movement: its
 * owner's username, or "Banque" for settlement.
 */
export async function listMovements(
  db: Queryable,
  accountNumbers: string[],
  { page, pageSize }: Page,
): Promise<{ movements: MovementView[]; hasNext: boolean }> {
  if (accountNumbers.length === 0) return { movements: [], hasNext: false };
  const rows: MovementRow[] = await db('transactions as t')
    .join('transfers as tr', 'tr.id', 't.transfer_id')
    .join('accounts as cp', function () {
      this.on('cp.id', '=', db.raw('case when t.amount < 0 then tr.to_account_id else tr.from_account_id end'));
    })
    .leftJoin('account_holders as cu', 'cu.id', 'cp.user_id')
    .whereIn('t.account_id', accountNumbers)
    .orderBy('t.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
    .select(
      't.id',
      't.created_at',
      't.account_id',
      't.amount',
      't.currency',
      't.type',
      't.label',
      'tr.reference',
      'cp.kind as counterparty_kind',
      'cu.username as counterparty_username',
    );
  return {
    movements: rows.slice(0, pageSize).map((r) => ({
      id: Number(r.id),
      createdAt: toIso(r.created_at),
      accountNumber: r.account_id,
      amount: formatCents(r.amount),
      currency: r.currency,
      type: r.type,
      label: r.label ?? '',
      counterparty: r.counterparty_kind === 'settlement' ? BANK_NAME : (r.counterparty_username ?? BANK_NAME),
      reference: r.reference,
    })),
    hasNext: rows.length > pageSize,
  };
}
