/** How long a client should wait before retrying a 503 (the database or a service is away). */
export const RETRY_AFTER_UNAVAILABLE_S = 5;

/**
 * Errors that carry an HTTP status and a stable machine-readable code.
 * `expose` says whether the message may be shown to the user: 5xx internals never are.
 * `headers` go out with the error response (`Allow` on a 405; every 503 carries `Retry-After`).
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.expose = status < 500;
    this.details = details;
    this.headers = status === 503 ? { 'Retry-After': String(RETRY_AFTER_UNAVAILABLE_S), ...headers } : headers;
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
export const serviceUnavailable = (code: string, message: string) => new AppError(503, code, message);
export const methodNotAllowed = (allowed: readonly string[]) =>
  new AppError(
    405,
    'method_not_allowed',
    `Méthode non autorisée pour cette adresse (méthodes acceptées : ${allowed.join(', ')}).`,
    { allow: allowed },
    { Allow: allowed.join(', ') },
  );
export const unsupportedMediaType = (code: string, message: string) => new AppError(415, code, message);

export const DB_UNAVAILABLE_MESSAGE =
  'La base de données ne répond pas pour le moment. Réessayez dans quelques instants.';

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  message?: unknown;
}

/**
 * Normalises anything thrown into an AppError. Errors from koa-bodyparser / raw-body
 * (too large, malformed JSON) carry a 4xx `status` and become readable client errors; a database
 * that cannot be reached is a 503 with `Retry-After`; everything else is an internal error whose
 * message is never shown.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDbUnavailable(err)) return serviceUnavailable('db_unavailable', DB_UNAVAILABLE_MESSAGE);
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

/** Node socket errors: the database server is not there, or went away mid-conversation. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs of a server that is unreachable, shutting down, starting up or full:
 * class 08 (connection exception) is matched as a class; 57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now, 53300 too many connections.
 */
const PG_UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** SQLite: the file cannot be opened, or another writer held the lock past busy_timeout. */
const SQLITE_UNAVAILABLE_CODES = new Set(['SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED']);

/** What node-postgres and knex say, without a code, when the connection is gone or never came. */
const UNAVAILABLE_MESSAGE =
  /Knex: Timeout acquiring a connection|Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|connect ECONNREFUSED|Client was closed and is not queryable/i;

/**
 * True for errors that mean "the database is not reachable right now": the one classifier both
 * services' error middlewares (through toAppError) and the migrate job's retry use. Looks inside
 * `cause` and AggregateError's `errors` (a connect to several addresses fails with one of those).
 */
export function isDbUnavailable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 3) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || PG_UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  if (SQLITE_UNAVAILABLE_CODES.has(code)) return true;
  if (e.name === 'KnexTimeoutError') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  if (isDbUnavailable(e.cause, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => isDbUnavailable(inner, depth + 1));
}
