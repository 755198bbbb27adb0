import type Koa from 'koa';
import type { Knex } from 'knex';
import { MAX_PAGE, type AccountView } from '#shared/contract/api.js';
import { AppError } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import { currentUser } from '../auth/current-user.js';
import type { Render } from '../render.js';
import type { TransactionsClient } from '../transactions-client.js';
import type { WriteLimits } from '../write-limits.js';

/** What every page group gets. Money data always comes from the transactions service. */
export interface PageDeps {
  logger: Logger;
  render: Render;
  transactions: TransactionsClient;
  limits: WriteLimits;
  /** For the audit rows the pages write (shared/src/audit.ts). */
  db: Knex;
}

/**
 * The one banner of a page whose money data cannot be read (transactions service or its database
 * down): shown by base.html when a page passes `outage`, instead of any statement about the data.
 */
export const OUTAGE_MESSAGE = 'Service des comptes temporairement indisponible, réessayez dans quelques instants.';

/**
 * The page a `?page=` asks for: 1 when absent or not a number. A number past MAX_PAGE (the
 * contract's last page) is kept as MAX_PAGE + 1: the page is shown empty, with a link back.
 */
export function pageNumber(value: unknown): number {
  if (typeof value !== 'string' || !/^[1-9]\d*$/.test(value)) return 1;
  return value.length > 6 ? MAX_PAGE + 1 : Math.min(Number(value), MAX_PAGE + 1);
}

/** The page to ask the transactions service for: past MAX_PAGE there is nothing to ask. */
export function pageToLoad(page: number): number {
  return Math.min(page, MAX_PAGE);
}

/** Links of the pager macro (views/macros.html). */
export function pagination(
  path: string,
  params: Record<string, string>,
  page: number,
  pageSize: number,
  hasNext: boolean,
  rowsOnPage: number,
) {
  const url = (p: number) => `${path}?${new URLSearchParams({ ...params, page: String(p) }).toString()}`;
  // A page past the end of the list (or past MAX_PAGE) is empty: it links back to the first page.
  const pastTheEnd = page > 1 && rowsOnPage === 0;
  return {
    page,
    pageSize,
    hasNext: hasNext && page < MAX_PAGE,
    hasPrev: page > 1 && !pastTheEnd,
    pastTheEnd,
    firstUrl: url(1),
    nextUrl: url(page + 1),
    prevUrl: url(page - 1),
  };
}

/** True for the transactions client's "unavailable" (503): an outage, not a refusal or a bug. */
export function isOutage(err: unknown): boolean {
  return err instanceof AppError && err.status === 503;
}

/** What `load` resolves to, or null during an outage; refusals and bugs propagate. */
export async function unlessOutage<T>(load: Promise<T>): Promise<T | null> {
  try {
    return await load;
  } catch (err) {
    if (isOutage(err)) return null;
    throw err;
  }
}

/** The status of a page rendered during an outage: 503, with a hint to retry soon. */
export function outageStatus(ctx: Koa.Context): number {
  ctx.set('Retry-After', '5');
  return 503;
}

/**
 * Renders a form page that lists the user's accounts. If the transactions service is down (or
 * `data.outage` says a call of the handler found it down) the page is rendered in its degraded
 * state: the banner, the form disabled, a 503.
 */
export async function renderAccountsForm(
  { render, transactions }: PageDeps,
  ctx: Koa.Context,
  template: string,
  data: Record<string, unknown>,
  status: number,
): Promise<void> {
  const accounts: AccountView[] | null = data.outage
    ? null
    : await unlessOutage(transactions.accounts(currentUser(ctx).id));
  if (accounts === null) {
    render(ctx, template, { ...data, accounts: [], outage: OUTAGE_MESSAGE }, outageStatus(ctx));
    return;
  }
  render(ctx, template, { ...data, accounts, outage: null }, status);
}
