import { SQLITE_FOREIGN_KEY, sqliteConstraintName } from './sqlite-refusal.js';

/**
 * THE MONEY RULE's catalogue: every invariant the bank keeps and the name the database knows it
 * by, which is what the running services need to tell which rule refused a write (`brokenRule`).
 * The rules themselves are SQL installed by migrations: the triggers of today's schema come from
 * ledger/rules.ts, installed by migration 20261202000300 and frozen with it (a shipped migration
 * and what it imports never change, docs/ARCHITECTURE.md §5). Changing a rule is a new migration
 * with its own DDL (see §3); a new rule adds its name here.
 */
export const RULES = {
  /** A customer account's balance never goes below zero; only settlement accounts may. */
  noOverdraft: 'accounts_no_overdraft',
  /** A transfer moves money between two different accounts… */
  twoAccounts: 'transfers_two_accounts',
  /** …of the transfer's currency (no conversion). */
  oneCurrency: 'transfers_one_currency',
  /**
   * Every succeeded transfer is posted by the database. Retires the legacy path where a release
   * older than migration 320 moved the money itself (`posted_by = 'application'`).
   */
  postedByDatabase: 'transfers_posted_by_database',
  /** A succeeded transfer moves both balances and writes two journal lines that sum to zero. */
  posting: 'transfers_post',
  /** `users.balance` (the original spec's field) always equals the user's primary account balance. */
  userBalanceMirror: 'accounts_primary_balance_to_user',
  /** The journal (`transactions`) is append-only: corrections are new entries. */
  journalAppendOnly: 'journal_append_only',
  /**
   * An account's number, owner, currency and kind never change once it is opened: only its
   * balance moves. The transfer path relies on it to keep accounts it has read (account-identities.ts).
   */
  accountIdentityFixed: 'accounts_identity_fixed',
} as const;

/**
 * Invariants kept by the tables themselves (migration 300 in services/shared/src/migrations),
 * named here so that every rule has one list: amount > 0, one key per user and operation, one
 * primary account per user, one settlement account per currency, owner iff not settlement.
 */
export const TABLE_CONSTRAINTS = {
  positiveAmount: 'transfers_amount_check',
  idempotencyKey: 'transfers_idempotency_key_unique',
  onePrimary: 'accounts_one_primary',
  oneSettlement: 'accounts_one_settlement',
  ownerIffCustomer: 'accounts_owner_check',
  initiatorIsUser: 'transfers_initiated_by_foreign',
} as const;

/** What `posted_by` must say on every transfer row (the column stays while the release on main writes it). */
export const POSTED_BY = 'database';

export type RuleName = (typeof RULES)[keyof typeof RULES] | (typeof TABLE_CONSTRAINTS)[keyof typeof TABLE_CONSTRAINTS];
const NAMES = new Set<string>([...Object.values(RULES), ...Object.values(TABLE_CONSTRAINTS)]);

/**
 * Which rule a database error says was broken, if any. PostgreSQL names it: SQLSTATE 23514
 * (check) or 23503 (foreign key) with the constraint's name. SQLite ends its message with the name
 * (sqlite-refusal.ts), except for a foreign key; the only foreign key a transfer row can break is
 * its initiator.
 */
export function brokenRule(err: unknown): RuleName | undefined {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  if (e?.code === '23514' || e?.code === '23503') {
    return typeof e.constraint === 'string' && NAMES.has(e.constraint) ? (e.constraint as RuleName) : undefined;
  }
  const name = sqliteConstraintName(err);
  if (name === SQLITE_FOREIGN_KEY) return TABLE_CONSTRAINTS.initiatorIsUser;
  return name !== undefined && NAMES.has(name) ? (name as RuleName) : undefined;
}
