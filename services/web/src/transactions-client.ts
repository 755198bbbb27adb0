import { AppError } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import { currentRequestId } from '../../shared/src/request-context.js';
import { signatureHeaders, type SigningKey } from '../../shared/src/signing.js';

export interface Account {
  number: string;
  currency: string;
  balance: string;
  kind: string;
  createdAt?: string;
}

export interface Movement {
  id: number;
  createdAt: string;
  accountNumber: string;
  amount: string;
  currency: string;
  type: string;
  label?: string | null;
  counterparty?: string | null;
  reference?: string | null;
}

export interface Page {
  page: number;
  pageSize: number;
  hasNext: boolean;
}

export type TransactionsClient = ReturnType<typeof createTransactionsClient>;

const TIMEOUT_MS = 5_000;

/**
 * Signed HTTP client for the transactions service. Each call carries the acting user's id inside
 * the signature and the current request id. Refusals come back as AppErrors with the service's
 * status, code and (French) message; an unreachable service becomes a 503.
 */
export function createTransactionsClient(baseUrl: string, key: SigningKey, logger: Logger) {
  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    actingUserId: number,
    payload?: unknown,
  ): Promise<{ status: number; body: T }> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...signatureHeaders(key, { method, path, body, actingUserId: String(actingUserId) }),
    };
    if (body) headers['content-type'] = 'application/json';
    const requestId = currentRequestId();
    if (requestId) headers['x-request-id'] = requestId;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body || undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      logger.error({ err: (err as Error).message, path }, 'transactions service unreachable');
      throw new AppError(503, 'transactions_unavailable', 'Le service des opérations est momentanément indisponible.');
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } }).error;
      if (response.status >= 500 || !error?.code) {
        logger.error({ status: response.status, path }, 'transactions service error');
        throw new AppError(
          503,
          'transactions_unavailable',
          'Le service des opérations est momentanément indisponible.',
        );
      }
      throw new AppError(response.status, error.code, error.message ?? 'Opération refusée.');
    }
    return { status: response.status, body: json as T };
  }

  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
    const text = search.toString();
    return text ? `?${text}` : '';
  };

  return {
    accounts: async (userId: number) =>
      (await call<{ accounts: Account[] }>('GET', '/api/accounts', userId)).body.accounts,
    openAccount: async (userId: number, currency: string) =>
      (await call<{ account: Account }>('POST', '/api/accounts', userId, { currency })).body.account,
    latestMovements: async (userId: number, limit = 5) =>
      (await call<{ movements: Movement[] }>('GET', `/api/movements${query({ limit })}`, userId)).body.movements,
    history: async (userId: number, account: string, page: number, pageSize: number) =>
      (
        await call<{ movements: Movement[] } & Page>(
          'GET',
          `/api/movements${query({ account, page, pageSize })}`,
          userId,
        )
      ).body,
    transfer: async (
      userId: number,
      input: { idempotencyKey: string; fromAccount: string; to: string; amount: string; label: string },
    ) => (await call<{ transfer: Record<string, string> }>('POST', '/api/transfers', userId, input)).body.transfer,
    journal: async (userId: number, page: number, pageSize: number) =>
      (
        await call<{ entries: Array<Record<string, unknown>> } & Page>(
          'GET',
          `/api/ledger/journal${query({ page, pageSize })}`,
          userId,
        )
      ).body,
    trialBalance: async (userId: number) =>
      (await call<Record<string, unknown>>('GET', '/api/ledger/trial-balance', userId)).body,
  };
}
