import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { forbidden } from '#shared/errors.js';

/** The session's CSRF token, created on first use. Rendered in every POST form as `_csrf`. */
export function csrfToken(ctx: Koa.Context): string {
  const session = ctx.session;
  if (!session) throw new Error('session middleware missing');
  if (typeof session.csrf !== 'string') session.csrf = randomBytes(32).toString('base64url');
  return session.csrf as string;
}

/** Rejects any state-changing request whose `_csrf` field does not match the session's token. */
export function verifyCsrf(): Koa.Middleware {
  return async (ctx, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
      await next();
      return;
    }
    const expected = typeof ctx.session?.csrf === 'string' ? Buffer.from(ctx.session.csrf as string) : undefined;
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const given = typeof body?._csrf === 'string' ? Buffer.from(body._csrf) : undefined;
    if (!expected || !given || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw forbidden('csrf_failed', 'Le formulaire a expiré ou n’est pas valide. Rechargez la page et réessayez.');
    }
    await next();
  };
}
