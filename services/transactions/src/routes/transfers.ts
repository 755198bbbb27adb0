import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { DepositRequest, TransferRequest } from '#shared/contract/api.js';
import { AppError, conflict } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import type { MovementCounter } from '../metrics.js';
import { executeMovement, type MovementOutcome, type MovementRequest } from '../ledger/transfers.js';
import { actingUserId, loadActor, requireAdmin } from './actor.js';
import { parseBody } from './parse.js';

/**
 * POST /transfers (any user, from their own account) and POST /deposits (admin, from
 * settlement). Input errors are refused before the key is used; business refusals are recorded
 * under the key and replayed as they were.
 */
export function transferRoutes(db: Knex, logger: Logger, movements: MovementCounter): Router {
  async function transfer(ctx: Koa.Context) {
    const body = parseBody(ctx, TransferRequest);
    const request: MovementRequest = {
      kind: 'transfer',
      idempotencyKey: body.idempotencyKey,
      fromAccount: body.fromAccount,
      to: body.to,
      amountCents: body.amount,
      label: body.label,
    };
    respond(ctx, logger, movements, 'transfer', await executeMovement(db, actingUserId(ctx), request));
  }

  async function deposit(ctx: Koa.Context) {
    const actor = await loadActor(ctx, db);
    const body = parseBody(ctx, DepositRequest);
    const request: MovementRequest = {
      kind: 'deposit',
      idempotencyKey: body.idempotencyKey,
      to: body.to,
      amountCents: body.amount,
      label: body.label,
    };
    respond(ctx, logger, movements, 'deposit', await executeMovement(db, actor.id, request));
  }

  return new Router()
    .post('/transfers', transfer)
    .post('/deposits', requireAdmin(db, 'Seul un administrateur peut créditer un compte.'), deposit);
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
