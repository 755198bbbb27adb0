import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { HistoryQuery, OverviewQuery, type HistoryView, type OverviewView } from '#shared/contract/api.js';
import { notFound } from '#shared/errors.js';
import { listAccounts } from '../ledger/accounts.js';
import { listMovements } from '../ledger/history.js';
import { actingUserId } from './actor.js';
import { parseQuery } from './parse.js';

/**
 * One call per web page: GET /overview (the user's accounts and latest movements, for the
 * dashboard) and GET /history (the accounts and the movements of one of them, or of all of them
 * without `account`, a page at a time).
 * Each internal call costs the web service an HTTP round-trip, so a page gets everything it shows
 * from one route. No actor load (one query fewer on the hot path): both read only the accounts
 * whose owner is the signed acting-user id, so an id that is no user simply owns nothing.
 */
export function overviewRoutes(db: Knex): Router {
  async function showOverview(ctx: Koa.Context) {
    const page = { page: 1, pageSize: parseQuery(ctx, OverviewQuery).limit };
    const accounts = await listAccounts(db, actingUserId(ctx));
    const { movements } = await listMovements(
      db,
      accounts.map((a) => a.number),
      page,
    );
    const body: OverviewView = { accounts, movements };
    ctx.body = body;
  }

  async function showHistory(ctx: Koa.Context) {
    // `account` is compared with the user's own account numbers only: anything else is not theirs (404).
    const { account: requested, ...page } = parseQuery(ctx, HistoryQuery);
    const accounts = await listAccounts(db, actingUserId(ctx));
    const account = requested ?? null;
    if (account !== null && !accounts.some((a) => a.number === account)) {
      throw notFound('unknown_account', 'Ce compte n’existe pas ou ne vous appartient pas.');
    }
    const { movements, hasNext } = await listMovements(
      db,
      account === null ? accounts.map((a) => a.number) : [account],
      page,
    );
    const body: HistoryView = { accounts, account, movements, page: page.page, pageSize: page.pageSize, hasNext };
    ctx.body = body;
  }

  return new Router().get('/overview', showOverview).get('/history', showHistory);
}
