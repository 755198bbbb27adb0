import type Koa from 'koa';
import { notFound, toAppError, type AppError } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';

/** The API's 404: a path no route has, or a route that found nothing to answer. */
export const resourceNotFound = (): AppError => notFound('not_found', 'Ressource introuvable.');

/** Renders every error as `{"error":{"code","message"}}`; 5xx details only go to the log. */
export function jsonErrors(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw resourceNotFound();
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) logger.error({ err }, 'request failed');
      ctx.status = appError.status;
      ctx.set(appError.headers);
      ctx.body = {
        error: {
          code: appError.code,
          message: appError.message,
          ...(appError.details ? { details: appError.details } : {}),
          requestId: ctx.state.requestId as string,
        },
      };
    }
  };
}
