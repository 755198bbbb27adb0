/**
 * Errors that carry an HTTP status and a stable machine-readable code.
 * `expose` says whether the message may be shown to the user: 5xx internals never are.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.expose = status < 500;
    this.details = details;
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(400, code, message, details);
export const unauthorized = (code: string, message: string) => new AppError(401, code, message);
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details);
export const tooManyRequests = (code: string, message: string) => new AppError(429, code, message);
export const serviceUnavailable = (code: string, message: string) => new AppError(503, code, message);

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  message?: unknown;
}

/**
 * Normalises anything thrown into an AppError. Errors from koa-bodyparser / raw-body
 * (too large, malformed JSON) carry a 4xx `status` and become readable client errors;
 * everything else is an internal error whose message is never shown.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = (err ?? {}) as HttpLikeError;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) {
    return new AppError(413, 'payload_too_large', 'La requête est trop volumineuse.');
  }
  if (status === 415) {
    return new AppError(415, 'unsupported_media_type', 'Type de contenu non pris en charge.');
  }
  if (status >= 400 && status < 500) {
    const code = e.type === 'entity.parse.failed' ? 'malformed_body' : 'bad_request';
    return new AppError(status, code, 'La requête est invalide ou mal formée.');
  }
  return new AppError(500, 'internal_error', 'Une erreur interne est survenue.');
}

/** True for errors that mean "the database is not reachable right now". */
export function isDbUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'ETIMEDOUT',
      'ECONNRESET',
      '57P01',
      '57P03',
      '08006',
      '08001',
      '08003',
      'SQLITE_CANTOPEN',
    ].includes(code) || /Knex: Timeout acquiring a connection|Connection terminated|connect ECONNREFUSED/i.test(message)
  );
}
