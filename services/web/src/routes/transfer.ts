import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { RECIPIENT_MAX_LENGTH } from '#shared/contract/accounts.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, LABEL_MAX_LENGTH, type TransferRequestBody } from '#shared/contract/api.js';
import { AMOUNT_MAX_LENGTH, formatCents, parseTypedAmount } from '#shared/contract/money.js';
import { recordAudit } from '#shared/audit.js';
import { AppError } from '#shared/errors.js';
import { currentUser } from '../auth/current-user.js';
import { formatMoney } from '../format.js';
import { readForm } from '../forms.js';
import { addFlash } from '../render.js';
import { sessionLimitKey, waitText } from '../write-limits.js';
import { isOutage, renderAccountsForm, type PageDeps } from './page-helpers.js';

/**
 * GET /transfer (the form, with a fresh idempotency key) and POST /transfer. A transfer that
 * went through redirects (303) back to the form with a one-time confirmation, so a reload never
 * posts again; a refusal or an outage renders the form with the message and what was typed.
 */
export function transferRoutes(deps: PageDeps): Router {
  const transferPage = (ctx: Koa.Context, extra: Record<string, unknown>, status = 200) =>
    renderAccountsForm(
      deps,
      ctx,
      'transfer.html',
      {
        title: 'Virement',
        page: 'transfer',
        idempotencyKey: randomUUID(),
        form: { fromAccount: '', to: '', amount: '', label: '' },
        refusal: null,
        ...extra,
      },
      status,
    );

  function showTransferForm(ctx: Koa.Context) {
    return transferPage(ctx, {});
  }

  async function submitTransfer(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const form = readForm(ctx.request.body, {
      idempotencyKey: { max: IDEMPOTENCY_KEY_MAX_LENGTH },
      fromAccount: { max: RECIPIENT_MAX_LENGTH },
      to: { max: RECIPIENT_MAX_LENGTH },
      amount: { max: AMOUNT_MAX_LENGTH },
      label: { max: LABEL_MAX_LENGTH },
    });
    const to = form.to.trim();
    const verdict = await deps.limits.transfer(sessionLimitKey(ctx, user.id), user.id);
    if (!verdict.allowed) {
      await recordAudit(deps.db, {
        event: 'transfer',
        outcome: 'rate_limited',
        actorId: user.id,
        actor: user.username,
        details: { fromAccount: form.fromAccount.slice(0, 64), retryAfterS: verdict.retryAfterS },
      });
      // Nothing was sent: the same key stays valid for the same transfer once the wait is over.
      ctx.set('Retry-After', String(verdict.retryAfterS));
      const message = `Trop de virements en peu de temps. Réessayez dans ${waitText(verdict.retryAfterS)}.`;
      await transferPage(ctx, { refusal: { message }, form, idempotencyKey: form.idempotencyKey }, 429);
      return;
    }
    try {
      // Typed with the contract's input type: a field the schema gains and the form lacks fails tsc.
      const body: TransferRequestBody = {
        idempotencyKey: form.idempotencyKey,
        fromAccount: form.fromAccount,
        to,
        amount: formatCents(parseTypedAmount(form.amount)),
        label: form.label.trim(),
      };
      const transfer = await deps.transactions.transfer(user.id, body);
      addFlash(ctx, 'success', `Virement de ${formatMoney(transfer.amount, transfer.currency)} envoyé à ${to}.`, {
        label: 'Référence',
        code: transfer.reference,
      });
      ctx.status = 303;
      ctx.redirect('/transfer');
    } catch (err) {
      if (isOutage(err)) {
        // Whether the money moved is unknown: the same key is kept, so sending again is safe.
        await transferPage(ctx, { form, idempotencyKey: form.idempotencyKey, outage: true });
        return;
      }
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      // The refused key stays failed; the corrected form gets a fresh key, since reusing the old
      // one with a different amount would be refused as a reused key (409).
      await transferPage(ctx, { refusal: { message: err.message }, form, idempotencyKey: randomUUID() }, err.status);
    }
  }

  return new Router().get('/transfer', showTransferForm).post('/transfer', submitTransfer);
}
