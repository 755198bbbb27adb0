import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from '#shared/contract/api.js';
import { CURRENCIES, isCurrency } from '#shared/contract/money.js';
import { currentUser } from '../auth/current-user.js';
import { readForm } from '../forms.js';
import { renderAccountsForm, type PageDeps } from './page-helpers.js';

/**
 * GET /create_account (the form, with a fresh idempotency key, and the user's accounts) and
 * POST /create_account: submitting the same form twice opens one account.
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
        created: null,
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
    const created = await deps.transactions.openAccount(user.id, { idempotencyKey, currency: form.currency });
    await createAccountPage(ctx, { created }, 201);
  }

  return new Router().get('/create_account', showOpenAccountForm).post('/create_account', submitOpenAccount);
}
