import type Koa from 'koa';
import { notFound, toAppError, type AppError } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import type { Render } from './render.js';

const HEADINGS: Record<number, string> = {
  400: 'Requête invalide',
  401: 'Authentification requise',
  403: 'Accès refusé',
  404: 'Page introuvable',
  405: 'Méthode non autorisée',
  409: 'Conflit',
  413: 'Requête trop volumineuse',
  415: 'Format non pris en charge',
  422: 'Données invalides',
  429: 'Trop de tentatives',
  503: 'Service momentanément indisponible',
};

/** The web's 404: a path no page has, or a page that found nothing to show. */
export const pageNotFound = (): AppError => notFound('not_found', 'La page demandée n’existe pas.');

/**
 * Renders every error as a friendly HTML page with its request id. 5xx internals are logged,
 * never shown; a database outage becomes a 503 the user can retry (toAppError classifies it).
 */
export function htmlErrors(logger: Logger, render: Render): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw pageNotFound();
      }
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) logger.error({ err }, 'request failed');
      ctx.set(appError.headers);
      const heading = HEADINGS[appError.status] ?? 'Erreur interne';
      try {
        render(
          ctx,
          'error.html',
          { title: heading, page: 'error', status: appError.status, heading, message: appError.message },
          appError.status,
        );
      } catch (renderErr) {
        // The session store itself may be what failed (database down): answer without it.
        logger.error({ err: renderErr }, 'error page could not be rendered');
        ctx.status = appError.status;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = `${heading} — ${appError.message} (réf. ${String(ctx.state.requestId)})`;
      }
    }
  };
}
