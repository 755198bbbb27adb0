import Router from '@koa/router';
import type Koa from 'koa';
import { CURRENCIES, isCurrency } from '#shared/contract/money.js';
import { AppError } from '#shared/errors.js';
import { currentUser } from '../auth/current-user.js';
import { readForm } from '../forms.js';
import { addFlash } from '../render.js';
import { isOutage, renderAccountsForm, type PageDeps } from './page-helpers.js';

/**
 * GET /create_account (the form and the user's accounts) and POST /create_account. An opened
 * account redirects (303) back to the page with a one-time confirmation; a refusal (unknown
 * currency, account limit) or an outage renders the form with its message.
 */
export function openAccountRoutes(deps: PageDeps): Router {
  const createAccountPage = (ctx: Koa.Context, extra: Record<string, unknown>, status = 200) =>
    renderAccountsForm(
      deps,
      ctx,
      'create_account.html',
      { title: 'Ouvrir un compte', page: 'create_account', currencies: CURRENCIES, selected: '', ...extra },
      status,
    );

  function showOpenAccountForm(ctx: Koa.Context) {
    return createAccountPage(ctx, {});
  }

  async function submitOpenAccount(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const form = readForm(ctx.request.body, { currency: { max: 8 } });
    if (!isCurrency(form.currency)) {
      await createAccountPage(ctx, { errors: ['Choisissez une devise proposée (EUR ou USD).'] }, 422);
      return;
    }
    try {
      const created = await deps.transactions.openAccount(user.id, form.currency);
      addFlash(ctx, 'success', `Compte ${created.currency} ouvert.`, { label: 'Numéro', code: created.number });
      ctx.status = 303;
      ctx.redirect('/create_account');
    } catch (err) {
      const extra = { selected: form.currency };
      if (isOutage(err)) return createAccountPage(ctx, { ...extra, outage: true });
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return createAccountPage(ctx, { ...extra, errors: [err.message] }, err.status);
    }
  }

  return new Router().get('/create_account', showOpenAccountForm).post('/create_account', submitOpenAccount);
}
