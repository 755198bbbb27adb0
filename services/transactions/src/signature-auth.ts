import type Koa from 'koa';
import { unauthorized } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import { verifySignature, type SigningKey } from '#shared/signing.js';

/**
 * Every /api call must be signed by the web service. The acting user id comes from the signed
 * headers only, never from the body, so ownership checks cannot be fooled by a forged field.
 * It lands in ctx.state.actingUserId; routes/actor.ts loads the user when a route needs more.
 */
export function requireSignature(key: SigningKey, logger: Logger): Koa.Middleware {
  return async function signedRequestsOnly(ctx, next) {
    if (!ctx.path.startsWith('/api/')) {
      await next();
      return;
    }
    const rawBody = (ctx.request as { rawBody?: string }).rawBody ?? '';
    const result = verifySignature(key, { method: ctx.method, path: ctx.url, body: rawBody, headers: ctx.headers });
    if (!result.ok) {
      logger.warn({ reason: result.reason }, 'rejected unsigned or invalid request');
      throw unauthorized('invalid_signature', 'Requête non authentifiée.');
    }
    if (!/^[1-9]\d{0,9}$/.test(result.actingUserId)) {
      throw unauthorized('invalid_signature', 'Requête non authentifiée.');
    }
    ctx.state.actingUserId = Number(result.actingUserId);
    await next();
  };
}
