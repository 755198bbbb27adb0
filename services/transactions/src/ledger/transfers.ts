import { randomBytes } from 'node:crypto';
import type { Queryable } from '#shared/db.js';
import type { Knex } from 'knex';
import { formatCents } from '#shared/contract/money.js';
import { unauthorized } from '#shared/errors.js';
import { requestContext } from '#shared/request-context.js';
import { nowIso, toIso } from '#shared/timestamps.js';
import type { AccountIdentity } from './account-identities.js';
import type { AccountRow } from './accounts.js';
import { DEFAULT_LABEL, refuse, type MovementOutcome, type MovementRequest, type Refusal } from './movement.js';
import { replay, requestHash } from './replay.js';
import { resolveDeposit, resolveTransfer, type Resolution } from './recipients.js';
import { brokenRule, POSTED_BY, RULES, TABLE_CONSTRAINTS } from './rule-catalogue.js';
import { withWriteRetry } from './retry.js';

export type { MovementOutcome, MovementRequest } from './movement.js';
export { requestHash } from './replay.js';

/** A short unique reference shown to users for every transfer and deposit. */
export function newReference(): string {
  return `TRX-${randomBytes(6).toString('hex').toUpperCase()}`;
}

/**
 * A transfer or a deposit, as a story: resolve who pays whom (plain reads); claim the idempotency
 * key with one INSERT of a succeeded row, which the database posts in that same statement
 * (rules.ts) or refuses as a whole when a rule is broken; a refusal is then recorded under the key
 * by a second INSERT, so a replayed key gets the original answer whatever happened since.
 */
export async function executeMovement(db: Knex, actorId: number, req: MovementRequest): Promise<MovementOutcome> {
  const hash = requestHash(req);
  const resolved = req.kind === 'transfer' ? await resolveTransfer(db, actorId, req) : await resolveDeposit(db, req);
  const row = (refusal: Refusal | undefined) => transferRow(actorId, req, hash, resolved, refusal);

  let refusal = resolved.refusal;
  const { from, to } = resolved;
  if (!refusal && from && to) {
    const claim = row(undefined);
    try {
      if (!(await insertClaim(db, claim))) return replay(db, actorId, req.idempotencyKey, hash);
      return {
        outcome: 'succeeded',
        replay: false,
        transfer: {
          reference: claim.reference,
          status: 'succeeded',
          amount: formatCents(req.amountCents),
          currency: from.currency,
          fromAccount: from.number,
          toAccount: to.number,
          label: claim.label,
          createdAt: toIso(claim.created_at),
        },
      };
    } catch (err) {
      refusal = await refusalFor(db, err, from, to, req.amountCents);
    }
  }
  refusal ??= refuse(422, 'refused', 'Opération refusée.');
  if (!(await insertClaim(db, row(refusal)))) return replay(db, actorId, req.idempotencyKey, hash);
  return { outcome: 'refused', replay: false, refusal };
}

function transferRow(
  actorId: number,
  req: MovementRequest,
  hash: string,
  { from, to }: Resolution,
  refusal: Refusal | undefined,
) {
  const context = requestContext.getStore();
  return {
    reference: newReference(),
    kind: req.kind,
    initiated_by: actorId,
    idempotency_key: req.idempotencyKey,
    request_hash: hash,
    status: refusal ? 'failed' : 'succeeded',
    posted_by: POSTED_BY,
    from_account_id: from?.id ?? null,
    to_account_id: to?.id ?? null,
    amount: req.amountCents,
    currency: from?.currency ?? to?.currency ?? null,
    label: req.label ?? DEFAULT_LABEL[req.kind],
    failure_status: refusal?.status ?? null,
    failure_code: refusal?.code ?? null,
    failure_message: refusal?.message ?? null,
    created_at: nowIso(),
    // Named by its audit row (written by the database with the row).
    request_id: context?.requestId ?? null,
    client_ip: context?.clientIp ?? null,
  };
}

/**
 * Inserts the transfer row unless its key was already used; false means it was (the caller
 * replays the stored outcome). On PostgreSQL a concurrent request with the same key waits on the
 * unique index until the first one's statement commits, then finds the key used. The same
 * statement posts the transfer (rules.ts) and writes its audit row (transactions migration
 * 20261205000500, with the request id and client address the row carries).
 */
async function insertClaim(db: Queryable, row: Record<string, unknown>): Promise<boolean> {
  try {
    const claimed = await withWriteRetry(
      () =>
        db('transfers')
          .insert(row)
          .onConflict(['initiated_by', 'idempotency_key'])
          .ignore()
          .returning(['id']) as Promise<Array<{ id: number }>>,
    );
    return claimed.length === 1;
  } catch (err) {
    // The signed acting-user id is not a user (the transfer route does not load the actor).
    if (brokenRule(err) === TABLE_CONSTRAINTS.initiatorIsUser)
      throw unauthorized('unknown_user', 'Utilisateur inconnu.');
    throw err;
  }
}

/** The refusal a user reads for a rule the database enforced (rules.ts); anything else is rethrown. */
async function refusalFor(
  db: Queryable,
  err: unknown,
  from: AccountIdentity,
  to: AccountIdentity,
  amountCents: number,
): Promise<Refusal> {
  switch (brokenRule(err)) {
    case RULES.noOverdraft: {
      const current = await db<AccountRow>('accounts').where({ id: from.id }).first();
      return refuse(
        422,
        'insufficient_funds',
        `Solde insuffisant : le compte ${from.number} dispose de ${formatCents(current?.balance ?? 0)} ${from.currency}, ` +
          `le virement demande ${formatCents(amountCents)} ${from.currency}.`,
      );
    }
    case RULES.twoAccounts:
      return refuse(422, 'same_account', 'Le compte à créditer doit être différent du compte à débiter.');
    case RULES.oneCurrency:
      return refuse(
        422,
        'currency_mismatch',
        `Devises différentes : le compte ${from.number} est en ${from.currency}, le compte ${to.number} en ${to.currency}.`,
      );
    default:
      throw err;
  }
}
