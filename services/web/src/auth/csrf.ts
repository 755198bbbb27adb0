import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { forbidden } from '#shared/errors.js';

/** The anonymous visitor's random value; the form carries its HMAC (signed double-submit). */
export const CSRF_COOKIE = 'bank.csrf';
const NONCE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The `_csrf` value rendered in every POST form. A logged-in user's token lives in their session.
 * An anonymous visitor (login, registration) gets no session row: their token is the HMAC, under
 * the web SECRET_KEY, of a random value kept in the `bank.csrf` cookie. Another site can neither
 * read nor set that cookie, nor compute the HMAC, so a forged form still fails; and a crawler
 * reading /login writes nothing to the database.
 */
export function csrfToken(ctx: Koa.Context, secretKey: string): string {
  const session = ctx.session;
  if (ctx.state.user && session) {
    if (typeof session.csrf !== 'string') session.csrf = randomBytes(32).toString('base64url');
    return session.csrf as string;
  }
  let nonce = ctx.cookies.get(CSRF_COOKIE);
  if (!nonce || !NONCE.test(nonce)) {
    nonce = randomBytes(32).toString('base64url');
    ctx.cookies.set(CSRF_COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, signed: false });
  }
  return signNonce(secretKey, nonce);
}

function signNonce(secretKey: string, nonce: string): string {
  return createHmac('sha256', secretKey).update(`csrf:${nonce}`).digest('base64url');
}

function sameToken(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Rejects any state-changing request whose `_csrf` field matches neither the session's token nor,
 * for an anonymous visitor only, the signature of their `bank.csrf` cookie.
 */
export function verifyCsrf(secretKey: string): Koa.Middleware {
  return async function csrfCheck(ctx, next) {
    if (['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
      await next();
      return;
    }
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const given = typeof body?._csrf === 'string' ? body._csrf : undefined;
    const inSession = typeof ctx.session?.csrf === 'string' ? (ctx.session.csrf as string) : undefined;
    const nonce = ctx.cookies.get(CSRF_COOKIE);
    const signed = !ctx.state.user && nonce && NONCE.test(nonce) ? signNonce(secretKey, nonce) : undefined;
    if (!sameToken(inSession, given) && !sameToken(signed, given)) {
      throw forbidden('csrf_failed', 'Le formulaire a expiré ou n’est pas valide. Rechargez la page et réessayez.');
    }
    await next();
  };
}
