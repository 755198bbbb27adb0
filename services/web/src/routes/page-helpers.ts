import type Koa from 'koa';
import type { AccountView } from '#shared/contract/api.js';
import { AppError } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import { currentUser } from '../auth/current-user.js';
import type { Render } from '../render.js';
import type { TransactionsClient } from '../transactions-client.js';

/** What every page group gets. Money data always comes from the transactions service. */
export interface PageDeps {
  logger: Logger;
  render: Render;
  transactions: TransactionsClient;
}

export function pageNumber(value: unknown): number {
  return typeof value === 'string' && /^[1-9]\d{0,5}$/.test(value) ? Number(value) : 1;
}

/** Links of the pager macro (views/macros.html). */
export function pagination(
  path: string,
  params: Record<string, string>,
  page: number,
  pageSize: number,
  hasNext: boolean,
) {
  const url = (p: number) => `${path}?${new URLSearchParams({ ...params, page: String(p) }).toString()}`;
  return { page, pageSize, hasNext, hasPrev: page > 1, nextUrl: url(page + 1), prevUrl: url(page - 1) };
}

/** A refusal the user can act on is shown on the page; an outage becomes a message, not a crash. */
export function unavailableMessage(err: unknown): string {
  if (err instanceof AppError && err.status === 503) return err.message;
  throw err;
}

/**
 * Renders a form page that lists the user's accounts. If the transactions service is down the
 * page still renders, with the outage among its errors.
 */
export async function renderAccountsForm(
  { render, transactions }: PageDeps,
  ctx: Koa.Context,
  template: string,
  data: Record<string, unknown>,
  status: number,
): Promise<void> {
  const errors = [...((data.errors as string[] | undefined) ?? [])];
  let accounts: AccountView[] = [];
  try {
    accounts = await transactions.accounts(currentUser(ctx).id);
  } catch (err) {
    errors.push(unavailableMessage(err));
  }
  render(ctx, template, { ...data, accounts, errors }, status);
}
