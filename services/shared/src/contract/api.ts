import type { Currency } from './money.js';

/**
 * The JSON the web service and the transactions service exchange: request bodies, the limits the
 * transactions validators enforce (and the web forms repeat for early feedback), and the response
 * shapes the web client reads. Amounts are decimal strings (see money.ts), timestamps ISO-8601 UTC.
 */

export const LABEL_MAX_LENGTH = 140;
/**
 * Characters a label may not hold: controls (Unicode Cc), invisible format characters (Cf: bidi
 * overrides such as U+202E that reorder the history's text, zero-width spaces U+200B…) and line
 * or paragraph separators.
 */
export const LABEL_FORBIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;
export const MAX_PAGE_SIZE = 100;
/**
 * The last page number either service serves (pages of at most MAX_PAGE_SIZE rows: at most
 * 100,000 rows are skipped). The API refuses a higher page with a 400 JSON error; the web shows an
 * empty page with a link back to the first, as for any page past the end of a list.
 */
export const MAX_PAGE = 1_000;

export type AccountKind = 'primary' | 'current';

export interface AccountView {
  number: string;
  currency: Currency;
  balance: string;
  kind: AccountKind;
  createdAt: string;
}

export interface MovementView {
  id: number;
  createdAt: string;
  accountNumber: string;
  amount: string;
  currency: Currency;
  type: string;
  label: string;
  counterparty: string;
  reference: string;
}

export interface TransferView {
  reference: string;
  status: 'succeeded';
  amount: string;
  currency: Currency;
  fromAccount: string;
  toAccount: string;
  label: string;
  createdAt: string;
}

export interface JournalEntryView {
  id: number;
  reference: string;
  createdAt: string;
  accountNumber: string;
  owner: string;
  amount: string;
  currency: Currency;
  type: string;
  label: string;
}

export interface TrialBalance {
  currencies: Array<{ currency: Currency; debits: string; credits: string; net: string }>;
  balanced: boolean;
  accounts: Array<{ number: string; owner: string; currency: Currency; balance: string; journalBalance: string }>;
}

export interface PageInfo {
  page: number;
  pageSize: number;
  hasNext: boolean;
}

/** GET /api/overview: what the dashboard shows, in one call. */
export interface OverviewView {
  accounts: AccountView[];
  movements: MovementView[];
}

/** GET /api/history: what the history page shows, in one call (`account` null: all the user's accounts). */
export interface HistoryView extends PageInfo {
  accounts: AccountView[];
  account: string | null;
  movements: MovementView[];
}

/** POST /api/transfers */
export interface TransferRequestBody {
  idempotencyKey: string;
  fromAccount: string;
  /** An account number or a username. */
  to: string;
  amount: string;
  label?: string;
}

/** POST /api/deposits (admin) */
export interface DepositRequestBody {
  idempotencyKey: string;
  to: string;
  amount: string;
  label?: string;
}

/** POST /api/accounts: the same key again returns the account it opened (200, Idempotent-Replay). */
export interface OpenAccountBody {
  idempotencyKey: string;
  currency: Currency;
}

/** The body of every refusal: `{"error": {...}}` with a stable code and a French message. */
export interface ApiError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  requestId?: string;
}
