import { isIP } from 'node:net';
import type Koa from 'koa';
import type { Logger } from './logger.js';
import { pickRequestId, requestContext } from './request-context.js';

/**
 * Gives every request an id (the caller's X-Request-Id when it is well-formed, else a new one),
 * runs the rest of the request inside that context so every log line carries it, echoes it in
 * the response, and logs one line per request.
 */
export function requestIdAndLogging(
  logger: Logger,
  appColor: string,
  options: { clientAddressFromCaller?: boolean } = {},
): Koa.Middleware {
  return async (ctx, next) => {
    const requestId = pickRequestId(ctx.get('x-request-id') || undefined);
    // An internal service learns the client's address from its caller (X-Client-Address), the
    // web service from the connection or its trusted proxy.
    const forwarded = ctx.get('x-client-address');
    const clientIp = options.clientAddressFromCaller ? (isIP(forwarded) ? forwarded : undefined) : ctx.ip;
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    ctx.set('X-App-Color', appColor);
    const started = process.hrtime.bigint();
    await requestContext.run({ requestId, clientIp }, async () => {
      try {
        await next();
      } finally {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // Health probes run every few seconds: keep them out of the info log.
        const level = ['/health', '/ready'].includes(ctx.path) && ctx.status < 400 ? 'debug' : 'info';
        logger[level](
          { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 },
          'request',
        );
      }
    });
  };
}
