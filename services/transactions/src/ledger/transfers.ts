import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import {
  ACCOUNT_NUMBER_PATTERN,
  newReference,
  normalizeAccountNumber,
  nowIso,
  postMovement,
  settlementAccount,
  toIso,
  type AccountRow,
} from '../../../shared/src/accounts.js';
import { formatCents, type Currency } from '../../../shared/src/money.js';
import type { Actor } from './actors.js';
import { withWriteRetry } from './retry.js';

/**
 * Transfers and deposits. Each request is one DB transaction that first claims its idempotency
 * key (a unique row in `transfers`), then either moves the money or records why it was refused.
 * Both outcomes are committed, so a replayed key gets the original answer, whatever happened since.
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

const refuse = (status: number, code: string, message: string): Refusal => ({ status, code, message });

export async function executeMovement(db: Knex, actor: Actor, req: MovementRequest): Promise<MovementOutcome> {
  const hash = requestHash(req);
  const label = req.label ?? DEFAULT_LABEL[req.kind];
  return withWriteRetry(() =>
    db.transaction(async (trx): Promise<MovementOutcome> => {
      const createdAt = nowIso();
      const reference = newReference();
      // First statement is a write: it takes SQLite's write lock up front and, on PostgreSQL,
      // makes a concurrent request with the same key wait here for the first one's outcome.
      const claimed = (await trx('transfers')
        .insert({
          reference,
          kind: req.kind,
          initiated_by: actor.id,
          idempotency_key: req.idempotencyKey,
          request_hash: hash,
          status: 'pending',
          amount: req.amountCents,
          label,
          created_at: createdAt,
        })
        .onConflict(['initiated_by', 'idempotency_key'])
        .ignore()
        .returning(['id'])) as Array<{ id: number }>;
      const id = claimed[0]?.id;
      if (id === undefined) return replay(trx, actor, req.idempotencyKey, hash);

      const resolved =
        req.kind === 'transfer' ? await resolveTransfer(trx, actor, req) : await resolveDeposit(trx, req);
      if ('refusal' in resolved) return recordRefusal(trx, id, resolved.refusal, resolved);
      const { from, to } = resolved;
      const moved = await postMovement(trx, {
        transferId: id,
        from,
        to,
        amountCents: req.amountCents,
        type: req.kind,
        label,
        createdAt,
      });
      if (!moved) {
        const current = await trx<AccountRow>('accounts').where({ id: from.id }).first();
        return recordRefusal(
          trx,
          id,
          refuse(
            422,
            'insufficient_funds',
            `Solde insuffisant : le compte ${from.number} dispose de ${formatCents(current?.balance ?? 0)} ${from.currency}, ` +
              `le virement demande ${formatCents(req.amountCents)} ${from.currency}.`,
          ),
          resolved,
        );
      }
      await trx('transfers')
        .where({ id })
        .update({ status: 'succeeded', from_account_id: from.id, to_account_id: to.id, currency: from.currency });
      return {
        outcome: 'succeeded',
        replay: false,
        transfer: {
          reference,
          status: 'succeeded',
          amount: formatCents(req.amountCents),
          currency: from.currency,
          fromAccount: from.number,
          toAccount: to.number,
          label,
          createdAt: toIso(createdAt),
        },
      };
    }),
  );
}

type Resolution = { from: AccountRow; to: AccountRow } | { refusal: Refusal; from?: AccountRow; to?: AccountRow };

async function resolveTransfer(trx: Knex.Transaction, actor: Actor, req: TransferRequest): Promise<Resolution> {
  const number = normalizeAccountNumber(req.fromAccount);
  const from = await trx<AccountRow>('accounts').where({ number }).first();
  if (!from) return { refusal: refuse(404, 'unknown_account', `Le compte ${number} n’existe pas.`) };
  if (from.user_id === null || Number(from.user_id) !== actor.id) {
    return { refusal: refuse(403, 'not_your_account', `Le compte ${number} ne vous appartient pas.`) };
  }
  const recipient = await resolveRecipient(trx, req.to, from.currency);
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

async function resolveDeposit(trx: Knex.Transaction, req: DepositRequest): Promise<Resolution> {
  const recipient = await resolveRecipient(trx, req.to, undefined);
  if ('refusal' in recipient) return { refusal: recipient.refusal };
  return { from: await settlementAccount(trx, recipient.account.currency), to: recipient.account };
}

/**
 * `to` is an account number (spaces and case ignored) or a username. A username means that
 * user's primary account, or, for another currency, their oldest account in that currency.
 * Settlement accounts are never a recipient.
 */
async function resolveRecipient(
  trx: Knex.Transaction,
  to: string,
  currency: Currency | undefined,
): Promise<{ account: AccountRow } | { refusal: Refusal }> {
  const key = normalizeRecipient(to);
  if (ACCOUNT_NUMBER_PATTERN.test(key)) {
    const account = await trx<AccountRow>('accounts').where({ number: key }).whereNot({ kind: 'settlement' }).first();
    if (account) return { account };
  }
  const user = await trx('users').where({ username: key }).first<{ id: number; username: string } | undefined>();
  if (!user) {
    return {
      refusal: refuse(404, 'unknown_recipient', `Destinataire inconnu : aucun compte ni utilisateur « ${key} ».`),
    };
  }
  const accounts = await trx<AccountRow>('accounts').where({ user_id: user.id }).orderBy('id');
  const primary = accounts.find((a) => a.kind === 'primary');
  const account =
    currency === undefined
      ? primary
      : primary?.currency === currency
        ? primary
        : accounts.find((a) => a.currency === currency);
  if (!account) {
    return { refusal: refuse(422, 'currency_mismatch', `${user.username} n’a pas de compte en ${currency ?? 'EUR'}.`) };
  }
  return { account };
}

async function recordRefusal(
  trx: Knex.Transaction,
  id: number,
  refusal: Refusal,
  accounts: { from?: AccountRow; to?: AccountRow },
): Promise<MovementOutcome> {
  await trx('transfers')
    .where({ id })
    .update({
      status: 'failed',
      from_account_id: accounts.from?.id ?? null,
      to_account_id: accounts.to?.id ?? null,
      currency: accounts.from?.currency ?? accounts.to?.currency ?? null,
      failure_status: refusal.status,
      failure_code: refusal.code,
      failure_message: refusal.message,
    });
  return { outcome: 'refused', replay: false, refusal };
}

async function replay(trx: Knex.Transaction, actor: Actor, key: string, hash: string): Promise<MovementOutcome> {
  const row = await trx('transfers as tr')
    .leftJoin('accounts as fa', 'fa.id', 'tr.from_account_id')
    .leftJoin('accounts as ta', 'ta.id', 'tr.to_account_id')
    .where({ 'tr.initiated_by': actor.id, 'tr.idempotency_key': key })
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
  if (row.request_hash !== hash) return { outcome: 'key_reused' };
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
