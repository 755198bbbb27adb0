import Router from '@koa/router';
import type { Knex } from 'knex';
import type { Config } from '../../../shared/src/config.js';
import type { Logger } from '../../../shared/src/logger.js';
import { formatCents } from '../../../shared/src/money.js';
import type { ActingUser } from '../signature-auth.js';

export interface ApiDeps {
  config: Config;
  db: Knex;
  logger: Logger;
}

interface MovementRow {
  id: number;
  account_id: string;
  amount: number | string;
  currency: string;
  type: string;
  created_at: string | Date;
}

/** Read endpoints used by the web pages. */
export function apiRoutes({ db }: ApiDeps): Router {
  const router = new Router({ prefix: '/api' });
  router.get('/movements', async (ctx) => {
    const user = ctx.state.actingUser as ActingUser;
    const rows: MovementRow[] = await db('transactions').where('user_id', user.id).orderBy('id', 'desc').limit(5);
    ctx.body = {
      movements: rows.map((r) => ({
        id: r.id,
        accountNumber: r.account_id,
        amount: formatCents(r.amount),
        currency: r.currency,
        type: r.type,
        createdAt: new Date(r.created_at).toISOString(),
      })),
    };
  });
  return router;
}
