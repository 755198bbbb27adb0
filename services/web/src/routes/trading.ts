import Router from '@koa/router';
import type Koa from 'koa';
import type { PageDeps } from './page-helpers.js';

/** GET /trading: announced, not offered yet. */
export function tradingRoutes({ render }: PageDeps): Router {
  function showTrading(ctx: Koa.Context) {
    render(ctx, 'trading.html', { title: 'Trading', page: 'trading' });
  }

  return new Router().get('/trading', showTrading);
}
