import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { journalPage, trialBalance } from '../ledger/journal.js';
import { requireAdmin } from './actor.js';
import { JournalQuery, NoQuery } from '#shared/contract/api.js';
import { parseQuery } from './parse.js';

/** Accounting views, admin only: the journal of postings and the trial balance. */
export function ledgerRoutes(db: Knex): Router {
  async function showJournal(ctx: Koa.Context) {
    const page = parseQuery(ctx, JournalQuery);
    const { entries, hasNext } = await journalPage(db, page);
    ctx.body = { entries, page: page.page, pageSize: page.pageSize, hasNext };
  }

  async function showTrialBalance(ctx: Koa.Context) {
    parseQuery(ctx, NoQuery);
    ctx.body = await trialBalance(db);
  }

  const router = new Router({ prefix: '/ledger' });
  router.use(requireAdmin(db, 'Page réservée aux administrateurs.'));
  return router.get('/journal', showJournal).get('/trial-balance', showTrialBalance);
}
