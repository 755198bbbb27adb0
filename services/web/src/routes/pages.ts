import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { AppError } from '../../../shared/src/errors.js';
import type { Logger } from '../../../shared/src/logger.js';
import { CURRENCIES, isCurrency } from '../../../shared/src/money.js';
import { currentUser, requireAdmin, requireLogin } from '../current-user.js';
import { readForm } from '../forms.js';
import type { Render } from '../render.js';
import type { Account, TransactionsClient } from '../transactions-client.js';

export interface PageDeps {
  logger: Logger;
  render: Render;
  transactions: TransactionsClient;
}

const PAGE_SIZE = 20;

function pageNumber(value: unknown): number {
  return typeof value === 'string' && /^[1-9]\d{0,5}$/.test(value) ? Number(value) : 1;
}

function pagination(path: string, params: Record<string, string>, page: number, pageSize: number, hasNext: boolean) {
  const url = (p: number) => `${path}?${new URLSearchParams({ ...params, page: String(p) }).toString()}`;
  return { page, pageSize, hasNext, hasPrev: page > 1, nextUrl: url(page + 1), prevUrl: url(page - 1) };
}

/** A refusal the user can act on is shown on the page; an outage becomes a message, not a crash. */
function unavailableMessage(err: unknown): string {
  if (err instanceof AppError && err.status === 503) return err.message;
  throw err;
}

/** The logged-in pages. Money data always comes from the transactions service. */
export function pageRoutes({ render, transactions }: PageDeps): Router {
  const router = new Router();

  router.get('/', (ctx) => ctx.redirect(ctx.state.user ? '/dashboard' : '/login'));

  router.get('/dashboard', requireLogin, async (ctx) => {
    const user = currentUser(ctx);
    let accounts: Account[] = [];
    let movements: unknown[] = [];
    let movementsError: string | null = null;
    try {
      [accounts, movements] = await Promise.all([
        transactions.accounts(user.id),
        transactions.latestMovements(user.id, 5),
      ]);
    } catch (err) {
      movementsError = unavailableMessage(err);
    }
    const primary = accounts.find((a) => a.kind === 'primary') ?? accounts[0];
    render(ctx, 'dashboard.html', {
      title: 'Tableau de bord',
      page: 'dashboard',
      profile: { username: user.username, balance: primary?.balance ?? null, currency: primary?.currency ?? 'EUR' },
      accounts,
      movements,
      movementsError,
    });
  });

  router.get('/transactions', requireLogin, async (ctx) => {
    const user = currentUser(ctx);
    const page = pageNumber(ctx.query.page);
    const requested = typeof ctx.query.account === 'string' ? ctx.query.account : '';
    let accounts: Account[] = [];
    let movements: unknown[] = [];
    let hasNext = false;
    let movementsError: string | null = null;
    let selectedAccount: string | null = null;
    try {
      accounts = await transactions.accounts(user.id);
      selectedAccount = accounts.find((a) => a.number === requested)?.number ?? accounts[0]?.number ?? null;
      if (requested && selectedAccount !== requested) {
        throw new AppError(404, 'unknown_account', 'Ce compte n’existe pas ou ne vous appartient pas.');
      }
      if (selectedAccount) {
        const history = await transactions.history(user.id, selectedAccount, page, PAGE_SIZE);
        movements = history.movements;
        hasNext = history.hasNext;
      }
    } catch (err) {
      movementsError = unavailableMessage(err);
    }
    render(ctx, 'transactions.html', {
      title: 'Opérations',
      page: 'transactions',
      accounts,
      selectedAccount,
      movements,
      movementsError,
      pagination: pagination(
        '/transactions',
        selectedAccount ? { account: selectedAccount } : {},
        page,
        PAGE_SIZE,
        hasNext,
      ),
    });
  });

  /**
   * Renders a form page that lists the user's accounts. If the transactions service is down the
   * page still renders, with the outage among its errors.
   */
  const formPage = async (
    ctx: Koa.Context,
    template: string,
    defaults: Record<string, unknown>,
    extra: Record<string, unknown>,
    status: number,
  ) => {
    const errors = [...((extra.errors as string[] | undefined) ?? [])];
    let accounts: Account[] = [];
    try {
      accounts = await transactions.accounts(currentUser(ctx).id);
    } catch (err) {
      errors.push(unavailableMessage(err));
    }
    render(ctx, template, { ...defaults, accounts, ...extra, errors }, status);
  };

  const transferPage = (ctx: Koa.Context, extra: Record<string, unknown>, status = 200) =>
    formPage(
      ctx,
      'transfer.html',
      {
        title: 'Virement',
        page: 'transfer',
        idempotencyKey: randomUUID(),
        form: { fromAccount: '', to: '', amount: '', label: '' },
        result: null,
        refusal: null,
      },
      extra,
      status,
    );

  router.get('/transfer', requireLogin, (ctx) => transferPage(ctx, {}));

  router.post('/transfer', requireLogin, async (ctx) => {
    const user = currentUser(ctx);
    const form = readForm(ctx.request.body, {
      idempotencyKey: { max: 128 },
      fromAccount: { max: 64 },
      to: { max: 64 },
      amount: { max: 64 },
      label: { max: 140 },
    });
    try {
      const transfer = await transactions.transfer(user.id, {
        idempotencyKey: form.idempotencyKey,
        fromAccount: form.fromAccount,
        to: form.to.trim(),
        amount: form.amount.trim(),
        label: form.label.trim(),
      });
      await transferPage(ctx, { result: transfer });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      // The refused key stays failed; the corrected form gets a fresh key, since reusing the old
      // one with a different amount would be refused as a reused key (409).
      await transferPage(ctx, { refusal: { message: err.message }, form, idempotencyKey: randomUUID() }, err.status);
    }
  });

  const createAccountPage = (ctx: Koa.Context, extra: Record<string, unknown>, status = 200) =>
    formPage(
      ctx,
      'create_account.html',
      { title: 'Ouvrir un compte', page: 'create_account', currencies: CURRENCIES, created: null },
      extra,
      status,
    );

  router.get('/create_account', requireLogin, (ctx) => createAccountPage(ctx, {}));

  router.post('/create_account', requireLogin, async (ctx) => {
    const user = currentUser(ctx);
    const form = readForm(ctx.request.body, { currency: { max: 8 } });
    if (!isCurrency(form.currency)) {
      await createAccountPage(ctx, { errors: ['Choisissez une devise proposée (EUR ou USD).'] }, 422);
      return;
    }
    const created = await transactions.openAccount(user.id, form.currency);
    await createAccountPage(ctx, { created }, 201);
  });

  router.get('/accounting', requireLogin, requireAdmin, async (ctx) => {
    const user = currentUser(ctx);
    const page = pageNumber(ctx.query.page);
    const [journal, trialBalance] = await Promise.all([
      transactions.journal(user.id, page, 50),
      transactions.trialBalance(user.id),
    ]);
    render(ctx, 'accounting.html', {
      title: 'Comptabilité',
      page: 'accounting',
      journal: journal.entries,
      pagination: pagination('/accounting', {}, page, 50, journal.hasNext),
      trialBalance,
    });
  });

  router.get('/trading', requireLogin, (ctx) => render(ctx, 'trading.html', { title: 'Trading', page: 'trading' }));

  return router;
}
