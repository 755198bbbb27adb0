import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { parseAmount } from '#shared/contract/money.js';
import { AppError, conflict } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import type { MovementCounter } from '../metrics.js';
import { executeMovement, type MovementOutcome, type MovementRequest } from '../ledger/transfers.js';
import { actingUserId, loadActor, requireAdmin } from './actor.js';
import { accountNumber, idempotencyKey, jsonObject, label, recipient, requiredString } from './validate.js';

/**
 * POST /transfers (any user, from their own account) and POST /deposits (admin, from
 * settlement). Input errors are refused before the key is used; business refusals are recorded
 * under the key and replayed as they were.
 */
export function transferRoutes(db: Knex, logger: Logger, movements: MovementCounter): Router {
  async function transfer(ctx: Koa.Context) {
    const body = jsonObject(ctx, ['idempotencyKey', 'fromAccount', 'to', 'amount', 'label']);
    const key = idempotencyKey(body);
    const request: MovementRequest = {
      kind: 'transfer',
      idempotencyKey: key,
      fromAccount: accountNumber(requiredString(body, 'fromAccount', 'Choisissez le compte à débiter.')),
      to: recipient(requiredString(body, 'to', 'Indiquez le destinataire (numéro de compte ou nom d’utilisateur).')),
      amountCents: parseAmount(amountField(body)),
      label: label(body),
    };
    respond(ctx, logger, movements, 'transfer', await executeMovement(db, actingUserId(ctx), request));
  }

  async function deposit(ctx: Koa.Context) {
    const actor = await loadActor(ctx, db);
    const body = jsonObject(ctx, ['idempotencyKey', 'to', 'amount', 'label']);
    const request: MovementRequest = {
      kind: 'deposit',
      idempotencyKey: idempotencyKey(body),
      to: recipient(requiredString(body, 'to', 'Indiquez le bénéficiaire (numéro de compte ou nom d’utilisateur).')),
      amountCents: parseAmount(amountField(body)),
      label: label(body),
    };
    respond(ctx, logger, movements, 'deposit', await executeMovement(db, actor.id, request));
  }

  return new Router()
    .post('/transfers', transfer)
    .post('/deposits', requireAdmin(db, 'Seul un administrateur peut créditer un compte.'), deposit);
}

/** Amounts are decimal strings; a JSON number would already have passed through a float. */
function amountField(body: Record<string, unknown>): unknown {
  const value = body.amount;
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new AppError(400, 'invalid_field', 'Le montant doit être une chaîne comme "12.34", pas un nombre.');
  }
  return value;
}

function respond(
  ctx: Koa.Context,
  logger: Logger,
  movements: MovementCounter,
  kind: 'transfer' | 'deposit',
  result: MovementOutcome,
): void {
  const replayed = 'replay' in result && result.replay;
  movements.inc({
    kind,
    outcome: replayed ? 'replayed' : result.outcome,
    code: result.outcome === 'refused' ? result.refusal.code : '',
  });
  if (result.outcome === 'key_reused') {
    throw conflict(
      'idempotency_key_reused',
      'Cette clé d’idempotence a déjà servi pour une autre opération : rechargez le formulaire.',
    );
  }
  if (result.replay) ctx.set('Idempotent-Replay', 'true');
  if (result.outcome === 'refused') {
    logger.info({ kind, code: result.refusal.code, replay: result.replay }, 'money movement refused');
    throw new AppError(result.refusal.status, result.refusal.code, result.refusal.message);
  }
  logger.info({ kind, reference: result.transfer.reference, replay: result.replay }, 'money moved');
  ctx.status = result.replay ? 200 : 201;
  ctx.body = { [kind]: result.transfer };
}
