import Router from '@koa/router';
import type Koa from 'koa';
import { recordAudit } from '#shared/audit.js';
import { currentUser } from '../auth/current-user.js';
import {
  OUTAGE_MESSAGE,
  outageStatus,
  pageNumber,
  pageToLoad,
  pagination,
  unlessOutage,
  type PageDeps,
} from './page-helpers.js';

const PAGE_SIZE = 50;

/** GET /accounting (admin): the trial balance and the journal, a page at a time. */
export function accountingRoutes({ db, render, transactions }: PageDeps): Router {
  async function showAccounting(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const page = pageNumber(ctx.query.page);
    await recordAudit(db, {
      event: 'admin.page_viewed',
      outcome: 'succeeded',
      actorId: user.id,
      actor: user.username,
      details: { page: '/accounting' },
    });
    const loaded = await unlessOutage(
      Promise.all([transactions.journal(user.id, pageToLoad(page), PAGE_SIZE), transactions.trialBalance(user.id)]),
    );
    const [journal, trialBalance] = loaded ?? [null, null];
    const entries = journal && pageToLoad(page) === page ? journal.entries : [];
    render(
      ctx,
      'accounting.html',
      {
        title: 'Comptabilité',
        page: 'accounting',
        journal: entries,
        pagination: pagination(
          '/accounting',
          {},
          page,
          PAGE_SIZE,
          journal?.hasNext ?? false,
          journal ? entries.length : 1,
        ),
        trialBalance,
        outage: loaded ? null : OUTAGE_MESSAGE,
      },
      loaded ? 200 : outageStatus(ctx),
    );
  }

  return new Router().get('/accounting', showAccounting);
}
