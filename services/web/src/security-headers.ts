import type Koa from 'koa';

const CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * Security headers set by the app itself, so they hold even when a scanner reaches the service
 * without the gateway. Dynamic pages are never cached; static files may be.
 */
export function securityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set({
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    if (!ctx.path.startsWith('/static/')) {
      ctx.set('Cache-Control', 'no-store, no-cache, must-revalidate');
      ctx.set('Pragma', 'no-cache');
    }
    await next();
  };
}
