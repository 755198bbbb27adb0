import type Router from '@koa/router';
import type Koa from 'koa';
import { methodNotAllowed } from './errors.js';

/**
 * Answers a request for a known path with a method none of its routes accepts with 405 and
 * `Allow`, thrown as an AppError so each service renders it in its own error format. It runs
 * before the body is read and before CSRF or signature checks: a PUT on /login is a wrong
 * method, not an expired form. OPTIONS on a known path gets 204 with `Allow`.
 * Unknown paths fall through to the 404 of the error middleware.
 */
export function allowedMethods(routers: readonly Router[]): Koa.Middleware {
  return async function methodIsAllowed(ctx, next) {
    const allowed = new Set<string>();
    let routed = false;
    for (const router of routers) {
      const match = router.match(ctx.path, ctx.method);
      if (match.route) routed = true;
      for (const layer of match.path) for (const method of layer.methods) allowed.add(method);
    }
    if (routed || allowed.size === 0) {
      await next();
      return;
    }
    const list = [...allowed].sort();
    if (ctx.method === 'OPTIONS') {
      ctx.set('Allow', list.join(', '));
      ctx.status = 204;
      return;
    }
    throw methodNotAllowed(list);
  };
}
