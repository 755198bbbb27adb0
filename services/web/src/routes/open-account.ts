import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { IDEMPOTENCY_KEY_MAX_LENGTH, type OpenAccountBody } from '#shared/contract/api.js';
import { CURRENCIES, isCurrency } from '#shared/contract/money.js';
import { recordAudit } from '#shared/audit.js';
import { AppError } from '#shared/errors.js';
import { currentUser } from '../auth/current-user.js';
import { readForm } from '../forms.js';
import { addFlash } from '../render.js';
import { sessionLimitKey, waitText } from '../write-limits.js';
import { isOutage, renderAccountsForm, type PageDeps } from './page-helpers.js';

/**
 * GET /create_account (the form, with a fresh idempotency key, and the user's accounts) and
 * POST /create_account: submitting the same form twice opens one account. An opened account
 * redirects (303) back to the page with a one-time confirmation; a refusal (unknown currency,
 * account limit) or an outage renders the form with its message.
 */
export function openAccountRoutes(deps: PageDeps): Router {
  const createAccountPage = (ctx: Koa.Context, extra: Record<string, unknown>, status = 200) =>
    renderAccountsForm(
      deps,
      ctx,
      'create_account.html',
      {
        title: 'Ouvrir un compte',
        page: 'create_account',
        currencies: CURRENCIES,
        selected: '',
        idempotencyKey: randomUUID(),
        ...extra,
      },
      status,
    );

  function showOpenAccountForm(ctx: Koa.Context) {
    return createAccountPage(ctx, {});
  }

  async function submitOpenAccount(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const form = readForm(ctx.request.body, {
      currency: { max: 8 },
      idempotencyKey: { max: IDEMPOTENCY_KEY_MAX_LENGTH },
    });
    if (!isCurrency(form.currency)) {
      await createAccountPage(ctx, { errors: ['Choisissez une devise proposée (EUR ou USD).'] }, 422);
      return;
    }
    // A page rendered before forms carried a key (or by the other colour) still opens its account.
    const idempotencyKey = form.idempotencyKey || randomUUID();
    const verdict = await deps.limits.opening(sessionLimitKey(ctx, user.id), user.id);
    if (!verdict.allowed) {
      await recordAudit(deps.db, {
        event: 'account.opening_refused',
        outcome: 'rate_limited',
        actorId: user.id,
        actor: user.username,
        details: { currency: form.currency, retryAfterS: verdict.retryAfterS },
      });
      ctx.set('Retry-After', String(verdict.retryAfterS));
      const message = `Trop d’ouvertures de compte en peu de temps. Réessayez dans ${waitText(verdict.retryAfterS)}.`;
      return createAccountPage(ctx, { selected: form.currency, idempotencyKey, errors: [message] }, 429);
    }
    try {
      // Typed with the contract's input type: a field the schema gains and the form lacks fails tsc.
      const body: OpenAccountBody = { idempotencyKey, currency: form.currency };
      const created = await deps.transactions.openAccount(user.id, body);
      addFlash(ctx, 'success', `Compte ${created.currency} ouvert.`, { label: 'Numéro', code: created.number });
      ctx.status = 303;
      ctx.redirect('/create_account');
    } catch (err) {
      // The form keeps its key: sending it again after a refusal or an outage opens one account.
      const extra = { selected: form.currency, idempotencyKey };
      if (isOutage(err)) return createAccountPage(ctx, { ...extra, outage: true });
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return createAccountPage(ctx, { ...extra, errors: [err.message] }, err.status);
    }
  }

  return new Router().get('/create_account', showOpenAccountForm).post('/create_account', submitOpenAccount);
}
