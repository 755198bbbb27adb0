import { createHash, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import {
  ACCOUNT_NUMBER_PATTERN,
  newReference,
  normalizeAccountNumber,
  nowIso,
  settlementAccount,
  toIso,
  type AccountRow,
} from '../../../shared/src/accounts.js';
import { unauthorized } from '../../../shared/src/errors.js';
import { formatCents, type Currency } from '../../../shared/src/money.js';
import { withWriteRetry } from './retry.js';

/**
 * Transfers and deposits. Each request claims its idempotency key with a unique row in
 * `transfers`, which either moves the money or records why it was refused. Both outcomes are
 * durable, so a replayed key gets the original answer, whatever happened since.
 */
export interface TransferRequest {
  kind: 'transfer';
  idempotencyKey: string;
  fromAccount: string;
  to: string;
  amountCents: number;
  label: string | undefined;
}

export interface DepositRequest {
  kind: 'deposit';
  idempotencyKey: string;
  to: string;
  amountCents: number;
  label: string | undefined;
}

export type MovementRequest = TransferRequest | DepositRequest;

export interface TransferView {
  reference: string;
  status: 'succeeded';
  amount: string;
  currency: Currency;
  fromAccount: string;
  toAccount: string;
  label: string;
  createdAt: string;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export type MovementOutcome =
  | { outcome: 'succeeded'; replay: boolean; transfer: TransferView }
  | { outcome: 'refused'; replay: boolean; refusal: Refusal }
  | { outcome: 'key_reused' };

interface TransferRow {
  id: number;
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

const DEFAULT_LABEL = { transfer: 'Virement', deposit: 'Dépôt' } as const;

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

function normalizeRecipient(to: string): string {
  const trimmed = to.trim();
  const asNumber = normalizeAccountNumber(trimmed);
  return ACCOUNT_NUMBER_PATTERN.test(asNumber) ? asNumber : trimmed;
}

function sameHash(stored: string, given: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

const refuse = (status: number, code: string, message: string): Refusal => ({ status, code, message });

/**
 * Account numbers, owners, currencies and kinds never change once an account exists, so who
 * pays whom is resolved first, with plain reads. Then a single INSERT claims the idempotency key
 * and, the row saying succeeded, moves the money: the transfers_post trigger (migration 320)
 * updates both balances and writes the journal in that same statement, or the whole statement
 * fails on the overdraft constraint and nothing is written. A refusal is then recorded under the
 * key by a second INSERT, so a replayed key gets the original answer whatever happened since.
 */
export async function executeMovement(db: Knex, actorId: number, req: MovementRequest): Promise<MovementOutcome> {
  try {
    return await execute(db, actorId, req);
  } catch (err) {
    // The only foreign key the claim can break is initiated_by: the signed id is not a user.
    if (isForeignKeyViolation(err)) throw unauthorized('unknown_user', 'Utilisateur inconnu.');
    throw err;
  }
}

function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '23503' || (e?.code === 'SQLITE_CONSTRAINT' && /FOREIGN KEY/i.test(String(e.message)));
}

/** The debit would take a customer account below zero (CHECK accounts_no_overdraft). */
function isOverdraft(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (e?.code === '23514') return e.constraint === 'accounts_no_overdraft';
  return e?.code === 'SQLITE_CONSTRAINT' && /accounts_no_overdraft/.test(String(e.message));
}

async function execute(db: Knex, actorId: number, req: MovementRequest): Promise<MovementOutcome> {
  const hash = requestHash(req);
  const label = req.label ?? DEFAULT_LABEL[req.kind];
  const resolved = req.kind === 'transfer' ? await resolveTransfer(db, actorId, req) : await resolveDeposit(db, req);
  const claim = (refusal: Refusal | undefined) => ({
    reference: newReference(),
    kind: req.kind,
    initiated_by: actorId,
    idempotency_key: req.idempotencyKey,
    request_hash: hash,
    status: refusal ? 'failed' : 'succeeded',
    posted_by: 'database',
    from_account_id: resolved.from?.id ?? null,
    to_account_id: resolved.to?.id ?? null,
    amount: req.amountCents,
    currency: resolved.from?.currency ?? resolved.to?.currency ?? null,
    label,
    failure_status: refusal?.status ?? null,
    failure_code: refusal?.code ?? null,
    failure_message: refusal?.message ?? null,
    created_at: nowIso(),
  });

  let refusal = resolved.refusal;
  const { from, to } = resolved;
  if (!refusal && from && to) {
    try {
      const row = claim(undefined);
      if (!(await insertClaim(db, row))) return replay(db, actorId, req.idempotencyKey, hash);
      return {
        outcome: 'succeeded',
        replay: false,
        transfer: {
          reference: row.reference,
          status: 'succeeded',
          amount: formatCents(req.amountCents),
          currency: from.currency,
          fromAccount: from.number,
          toAccount: to.number,
          label,
          createdAt: toIso(row.created_at),
        },
      };
    } catch (err) {
      if (!isOverdraft(err)) throw err;
      refusal = await insufficientFunds(db, from, req.amountCents);
    }
  }
  refusal ??= refuse(422, 'refused', 'Opération refusée.');
  if (!(await insertClaim(db, claim(refusal)))) return replay(db, actorId, req.idempotencyKey, hash);
  return { outcome: 'refused', replay: false, refusal };
}

/**
 * Inserts the transfer row unless its key was already used; false means it was (the caller
 * replays the stored outcome). On PostgreSQL a concurrent request with the same key waits on the
 * unique index until the first one's statement commits, then finds the key used.
 */
async function insertClaim(db: Knex, row: Record<string, unknown>): Promise<boolean> {
  const claimed = await withWriteRetry(
    () =>
      db('transfers').insert(row).onConflict(['initiated_by', 'idempotency_key']).ignore().returning(['id']) as Promise<
        Array<{ id: number }>
      >,
  );
  return claimed.length === 1;
}

async function insufficientFunds(db: Knex, from: AccountRow, amountCents: number): Promise<Refusal> {
  const current = await db<AccountRow>('accounts').where({ id: from.id }).first();
  return refuse(
    422,
    'insufficient_funds',
    `Solde insuffisant : le compte ${from.number} dispose de ${formatCents(current?.balance ?? 0)} ${from.currency}, ` +
      `le virement demande ${formatCents(amountCents)} ${from.currency}.`,
  );
}

interface Resolution {
  from?: AccountRow;
  to?: AccountRow;
  refusal?: Refusal;
}

async function resolveTransfer(db: Knex, actorId: number, req: TransferRequest): Promise<Resolution> {
  const number = normalizeAccountNumber(req.fromAccount);
  const toKey = normalizeRecipient(req.to);
  // One query for both ends when the recipient is given as an account number (the usual case).
  const found = await db<AccountRow>('accounts').whereIn('number', [number, toKey]);
  const from = found.find((a) => a.number === number);
  if (!from) return { refusal: refuse(404, 'unknown_account', `Le compte ${number} n’existe pas.`) };
  if (from.user_id === null || Number(from.user_id) !== actorId) {
    return { refusal: refuse(403, 'not_your_account', `Le compte ${number} ne vous appartient pas.`) };
  }
  const known = found.find((a) => a.number === toKey && a.kind !== 'settlement');
  const recipient = known ? { account: known } : await resolveRecipient(db, req.to, from.currency);
  if ('refusal' in recipient) return { refusal: recipient.refusal, from };
  const to = recipient.account;
  if (to.id === from.id) {
    return {
      refusal: refuse(422, 'same_account', 'Le compte à créditer doit être différent du compte à débiter.'),
      from,
      to,
    };
  }
  if (to.currency !== from.currency) {
    return {
      refusal: refuse(
        422,
        'currency_mismatch',
        `Devises différentes : le compte ${from.number} est en ${from.currency}, le compte ${to.number} en ${to.currency}.`,
      ),
      from,
      to,
    };
  }
  return { from, to };
}

async function resolveDeposit(db: Knex, req: DepositRequest): Promise<Resolution> {
  const recipient = await resolveRecipient(db, req.to, undefined);
  if ('refusal' in recipient) return { refusal: recipient.refusal };
  return { from: await settlementAccount(db, recipient.account.currency), to: recipient.account };
}

/**
 * `to` is an account number (spaces and case ignored) or a username. A username means that
 * user's primary account, or, for another currency, their oldest account in that currency.
 * Settlement accounts are never a recipient.
 */
async function resolveRecipient(
  db: Knex,
  to: string,
  currency: Currency | undefined,
): Promise<{ account: AccountRow } | { refusal: Refusal }> {
  const key = normalizeRecipient(to);
  if (ACCOUNT_NUMBER_PATTERN.test(key)) {
    const account = await db<AccountRow>('accounts').where({ number: key }).whereNot({ kind: 'settlement' }).first();
    if (account) return { account };
  }
  // Every user has a primary account, so no account at all means no such user.
  const accounts: AccountRow[] = await db('accounts as a')
    .join('users as u', 'u.id', 'a.user_id')
    .where('u.username', key)
    .orderBy('a.id')
    .select('a.*');
  if (accounts.length === 0) {
    return {
      refusal: refuse(404, 'unknown_recipient', `Destinataire inconnu : aucun compte ni utilisateur « ${key} ».`),
    };
  }
  const primary = accounts.find((a) => a.kind === 'primary');
  const account =
    currency === undefined || primary?.currency === currency ? primary : accounts.find((a) => a.currency === currency);
  if (!account) {
    return { refusal: refuse(422, 'currency_mismatch', `${key} n’a pas de compte en ${currency ?? 'EUR'}.`) };
  }
  return { account };
}

async function replay(db: Knex, actorId: number, key: string, hash: string): Promise<MovementOutcome> {
  const row = await db('transfers as tr')
    .leftJoin('accounts as fa', 'fa.id', 'tr.from_account_id')
    .leftJoin('accounts as ta', 'ta.id', 'tr.to_account_id')
    .where({ 'tr.initiated_by': actorId, 'tr.idempotency_key': key })
    .first<TransferRow | undefined>(
      'tr.id',
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
