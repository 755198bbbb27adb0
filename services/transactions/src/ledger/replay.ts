import { createHash, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '#shared/db.js';
import { normalizeAccountNumber } from '#shared/contract/accounts.js';
import { formatCents, type Currency } from '#shared/contract/money.js';
import { toIso } from '#shared/timestamps.js';
import { DEFAULT_LABEL, refuse, type MovementOutcome, type MovementRequest } from './movement.js';
import { normalizeRecipient } from './recipients.js';

/**
 * Idempotency: each request claims its key with a unique row in `transfers`
 * (transfers_idempotency_key_unique). A key seen again gets the stored outcome back if the payload
 * is the same, a `key_reused` otherwise.
 */

/** What "the same payload" means: the normalised fields, so "10" and "10.00" are the same request. */
export function requestHash(req: MovementRequest): string {
  const fields =
    req.kind === 'transfer'
      ? [
          req.kind,
          normalizeAccountNumber(req.fromAccount),
          normalizeRecipient(req.to),
          req.amountCents,
          req.label ?? '',
        ]
      : [req.kind, normalizeRecipient(req.to), req.amountCents, req.label ?? ''];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

function sameHash(stored: string, given: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

interface TransferRow {
  reference: string;
  kind: 'transfer' | 'deposit';
  request_hash: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount: number | string;
  currency: Currency | null;
  label: string | null;
  failure_status: number | null;
  failure_code: string | null;
  failure_message: string | null;
  created_at: string | Date;
  from_number: string | null;
  to_number: string | null;
}

/** The outcome stored under `key` by the request that claimed it first. */
export async function replay(db: Queryable, actorId: number, key: string, hash: string): Promise<MovementOutcome> {
  const row = await db('transfers as tr')
    .leftJoin('accounts as fa', 'fa.id', 'tr.from_account_id')
    .leftJoin('accounts as ta', 'ta.id', 'tr.to_account_id')
    .where({ 'tr.initiated_by': actorId, 'tr.idempotency_key': key })
    .first<TransferRow | undefined>(
      'tr.reference',
      'tr.kind',
      'tr.request_hash',
      'tr.status',
      'tr.amount',
      'tr.currency',
      'tr.label',
      'tr.failure_status',
      'tr.failure_code',
      'tr.failure_message',
      'tr.created_at',
      'fa.number as from_number',
      'ta.number as to_number',
    );
  if (!row) throw new Error('idempotency key conflict without a stored transfer');
  if (!sameHash(row.request_hash, hash)) return { outcome: 'key_reused' };
  if (row.status !== 'succeeded') {
    return {
      outcome: 'refused',
      replay: true,
      refusal: refuse(
        Number(row.failure_status ?? 422),
        row.failure_code ?? 'failed',
        row.failure_message ?? 'Opération refusée.',
      ),
    };
  }
  return {
    outcome: 'succeeded',
    replay: true,
    transfer: {
      reference: row.reference,
      status: 'succeeded',
      amount: formatCents(row.amount),
      currency: row.currency ?? 'EUR',
      fromAccount: row.from_number ?? '',
      toAccount: row.to_number ?? '',
      label: row.label ?? DEFAULT_LABEL[row.kind],
      createdAt: toIso(row.created_at),
    },
  };
}
