import type Router from '@koa/router';
import type Koa from 'koa';
import { methodNotAllowed, type AppError } from './errors.js';

/**
 * Answers a request for a known path with a method none of its routes accepts with 405 and
 * `Allow`, and a path no route knows with the service's `notFound` error, both thrown as an
 * AppError so each service renders them in its own error format. It runs before the body is read
 * and before CSRF or signature checks: a PUT on /login is a wrong method and a POST to /nowhere
 * an unknown page, not an expired form. OPTIONS on a known path gets 204 with `Allow`.
 * The routers must be every router mounted after this middleware.
 */
export function allowedMethods(routers: readonly Router[], notFound: () => AppError): Koa.Middleware {
  return async function methodIsAllowed(ctx, next) {
    const allowed = new Set<string>();
    let routed = false;
    for (const router of routers) {
      const match = router.match(ctx.path, ctx.method);
      if (match.route) routed = true;
      for (const layer of match.path) for (const method of layer.methods) allowed.add(method);
    }
    if (routed) {
      await next();
      return;
    }
    if (allowed.size === 0) throw notFound();
    const list = [...allowed].sort();
    if (ctx.method === 'OPTIONS') {
      ctx.set('Allow', list.join(', '));
      ctx.status = 204;
      return;
    }
    throw methodNotAllowed(list);
  };
}
