import type {
  AccountList,
  HistoryQueryInput,
  HistoryView,
  JournalPage,
  JournalQueryInput,
  OpenAccountBody,
  OpenedAccount,
  OverviewView,
  TransferDone,
  TransferRequestBody,
  TrialBalance,
} from '#shared/contract/api.js';
import { AppError } from '#shared/errors.js';
import type { Logger } from '#shared/logger.js';
import { currentRequestId, requestContext } from '#shared/request-context.js';
import { signatureHeaders, type SigningKey } from '#shared/signing.js';
import { createSender, type RawResponse } from './transactions-sender.js';

export type TransactionsClient = ReturnType<typeof createTransactionsClient>;

function unavailable(): AppError {
  return new AppError(503, 'transactions_unavailable', 'Le service des opérations est momentanément indisponible.');
}

/** Safe to send twice: a read, or a POST the service deduplicates by the idempotency key it carries. */
function idempotent(method: 'GET' | 'POST', payload: unknown): boolean {
  if (method === 'GET') return true;
  const key = (payload as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
  return typeof key === 'string' && key !== '';
}

/**
 * Signed HTTP client for the transactions service, typed with the shared contract. Each call
 * carries the acting user's id inside the signature and the current request id. Refusals come
 * back as AppErrors with the service's status, code and (French) message; an unreachable service
 * becomes a 503. Reads and keyed POSTs are sent once more when a replica fails before answering
 * (transactions-sender.ts).
 */
export function createTransactionsClient(baseUrl: string, key: SigningKey, logger: Logger) {
  const send = createSender(baseUrl, logger);
  async function call<T>(method: 'GET' | 'POST', path: string, actingUserId: number, payload?: unknown): Promise<T> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...signatureHeaders(key, { method, path, body, actingUserId: String(actingUserId) }),
    };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const requestId = currentRequestId();
    if (requestId) headers['x-request-id'] = requestId;
    // For the transactions service's audit rows (shared/src/audit.ts).
    const clientIp = requestContext.getStore()?.clientIp;
    if (clientIp) headers['x-client-address'] = clientIp;
    let response: RawResponse;
    try {
      response = await send(method, path, headers, body, idempotent(method, payload));
    } catch (err) {
      logger.error({ err: (err as Error).message, path }, 'transactions service unreachable');
      throw unavailable();
    }
    const { text } = response;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (response.status < 200 || response.status > 299) {
      const error = (json as { error?: { code?: string; message?: string } }).error;
      if (response.status >= 500 || !error?.code) {
        logger.error({ status: response.status, path }, 'transactions service error');
        throw unavailable();
      }
      throw new AppError(response.status, error.code, error.message ?? 'Opération refusée.');
    }
    return json as T;
  }

  const query = (params: Record<string, string | undefined>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
    const text = search.toString();
    return text ? `?${text}` : '';
  };

  return {
    accounts: async (userId: number) => (await call<AccountList>('GET', '/api/accounts', userId)).accounts,
    /** Idempotent under input.idempotencyKey: a repeat returns the account the first call opened. */
    openAccount: async (userId: number, input: OpenAccountBody) =>
      (await call<OpenedAccount>('POST', '/api/accounts', userId, input)).account,
    /** Idempotent: a repeat returns the account the first call opened. */
    openPrimaryAccount: async (userId: number) =>
      (await call<OpenedAccount>('POST', '/api/accounts/primary', userId, {})).account,
    /** The dashboard's data in one call: accounts and the latest movements across them. */
    overview: (userId: number, limit = 5) =>
      call<OverviewView>('GET', `/api/overview${query({ limit: String(limit) })}`, userId),
    /** The history page's data in one call; without `account`, all the user's accounts. */
    historyPage: (userId: number, account: string | undefined, page: number, pageSize: number) => {
      const params: HistoryQueryInput = { account, page: String(page), pageSize: String(pageSize) };
      return call<HistoryView>('GET', `/api/history${query(params)}`, userId);
    },
    transfer: async (userId: number, input: TransferRequestBody) =>
      (await call<TransferDone>('POST', '/api/transfers', userId, input)).transfer,
    journal: (userId: number, page: number, pageSize: number) => {
      const params: JournalQueryInput = { page: String(page), pageSize: String(pageSize) };
      return call<JournalPage>('GET', `/api/ledger/journal${query(params)}`, userId);
    },
    trialBalance: (userId: number) => call<TrialBalance>('GET', '/api/ledger/trial-balance', userId),
  };
}
