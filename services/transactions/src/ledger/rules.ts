import type { Knex } from 'knex';
import { dbClient } from '#shared/db.js';

/**
 * FROZEN: the trigger SQL that shipped migrations 20261201000100 and 20261202000300 run, kept
 * byte for byte as they ran it (docs/ARCHITECTURE.md §5; test/unit/migrations-released.test.ts
 * refuses any change nobody has reviewed). Only migrations import this file. The
 * services read the rule names from rule-catalogue.ts and SQLite refusals with sqlite-refusal.ts.
 *
 * Posting lives in SQL (triggers), not in TypeScript: a transfer is one INSERT into `transfers`,
 * and that statement moves both balances and writes both journal lines, all or nothing. That is
 * one round trip per transfer, and the release still running as the other colour during a
 * blue/green flip gets exactly the same rule.
 *
 * To change a rule (for example to allow an overdraft limit, see `balanceMayStand`), do not edit
 * this file: write a new migration that holds its own SQL (docs/ARCHITECTURE.md §3).
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

/**
 * The no-overdraft rule, as SQL over an `accounts` row: may this balance stand? Checked on every
 * balance change. An overdraft limit would read, for instance,
 * `${row}.kind = 'settlement' or ${row}.balance >= -${row}.overdraft_limit`.
 */
const balanceMayStand = (row: string) => `${row}.kind = 'settlement' or ${row}.balance >= 0`;

/** Both statements of a posting, the same in both dialects: the two balances, then the two lines. */
const MOVE_AND_POST = `
  update accounts
    set balance = balance + case when id = new.from_account_id then -new.amount else new.amount end
    where id in (new.from_account_id, new.to_account_id);
  insert into transactions (user_id, account_id, transfer_id, amount, currency, type, label, created_at)
    select user_id, number, new.id,
           case when id = new.from_account_id then -new.amount else new.amount end,
           currency, new.kind, new.label, new.created_at
    from accounts where id in (new.from_account_id, new.to_account_id)
    order by id = new.to_account_id;`;

/** The columns of an account that never change (`accountIdentityFixed`). */
const IDENTITY_COLUMNS = ['number', 'user_id', 'currency', 'kind'] as const;
const identityChanged = (distinct: string) => IDENTITY_COLUMNS.map((c) => `new.${c} ${distinct} old.${c}`).join(' or ');

const SAME_CURRENCY_ACCOUNTS = `(select count(*) from accounts
  where id in (new.from_account_id, new.to_account_id) and currency = new.currency)`;

/** PostgreSQL: refusals carry SQLSTATE 23514 (check_violation) and the rule's name as constraint. */
const pgRefuse = (rule: string, message: string, ...args: string[]) =>
  `raise exception using errcode = 'check_violation', constraint = '${rule}', message = format('${rule}: ${message}'${args.map((a) => `, ${a}`).join('')})`;

const POSTGRES: string[] = [
  `create function ${RULES.noOverdraft}() returns trigger language plpgsql as $$
   begin ${pgRefuse(RULES.noOverdraft, 'account %s cannot go to %s', 'new.number', 'new.balance')}; end $$`,
  `create trigger ${RULES.noOverdraft} before update of balance on accounts
   for each row when (not (${balanceMayStand('new')})) execute function ${RULES.noOverdraft}()`,

  `create function ${RULES.userBalanceMirror}() returns trigger language plpgsql as $$
   begin update users set balance = new.balance where id = new.user_id; return null; end $$`,
  `create trigger ${RULES.userBalanceMirror} after update of balance on accounts
   for each row when (new.kind = 'primary' and new.balance is distinct from old.balance)
   execute function ${RULES.userBalanceMirror}()`,

  `create function ${RULES.posting}() returns trigger language plpgsql as $$
   begin
     if new.posted_by is distinct from '${POSTED_BY}' then
       ${pgRefuse(RULES.postedByDatabase, 'transfer %s has posted_by %s', 'new.reference', 'new.posted_by')};
     end if;
     if new.from_account_id is not distinct from new.to_account_id then
       ${pgRefuse(RULES.twoAccounts, 'transfer %s debits and credits the same account', 'new.reference')};
     end if;
     if ${SAME_CURRENCY_ACCOUNTS} <> 2 then
       ${pgRefuse(RULES.oneCurrency, 'transfer %s needs two %s accounts', 'new.reference', 'new.currency')};
     end if;
     -- Row locks in a stable order: two opposite transfers can never wait on each other.
     -- NO KEY UPDATE (what the UPDATE takes anyway) does not block other transactions'
     -- foreign-key checks, which take KEY SHARE on these rows.
     perform 1 from accounts where id in (new.from_account_id, new.to_account_id)
       order by id for no key update;
     ${MOVE_AND_POST}
     return null;
   end $$`,
  `create trigger ${RULES.posting} after insert on transfers
   for each row when (new.status = 'succeeded') execute function ${RULES.posting}()`,

  `create function ${RULES.accountIdentityFixed}() returns trigger language plpgsql as $$
   begin ${pgRefuse(RULES.accountIdentityFixed, 'account %s keeps its number, owner, currency and kind', 'old.number')}; end $$`,
  `create trigger ${RULES.accountIdentityFixed} before update of ${IDENTITY_COLUMNS.join(', ')} on accounts
   for each row when (${identityChanged('is distinct from')}) execute function ${RULES.accountIdentityFixed}()`,

  `create function ${RULES.journalAppendOnly}() returns trigger language plpgsql as $$
   begin raise exception '${RULES.journalAppendOnly}: the journal is append-only: % on transactions refused', tg_op; end $$`,
  `create trigger ${RULES.journalAppendOnly} before update or delete on transactions
   for each row execute function ${RULES.journalAppendOnly}()`,
  `create trigger ${RULES.journalAppendOnly}_truncate before truncate on transactions
   for each statement execute function ${RULES.journalAppendOnly}()`,
];

/**
 * SQLite: a trigger refuses with RAISE(ABORT, '<rule name>'), which node-sqlite3 reports as code
 * SQLITE_CONSTRAINT with the message "SQLITE_CONSTRAINT: <rule name>" (see `brokenRule`). SQLite
 * has one writer at a time: the INSERT firing these triggers already holds the write lock.
 */
const SQLITE: string[] = [
  `create trigger ${RULES.noOverdraft} before update of balance on accounts
   when not (${balanceMayStand('new')})
   begin select raise(abort, '${RULES.noOverdraft}'); end`,
  `create trigger ${RULES.userBalanceMirror} after update of balance on accounts
   when new.kind = 'primary' and new.balance is not old.balance
   begin update users set balance = new.balance where id = new.user_id; end`,
  `create trigger ${RULES.posting} after insert on transfers
   when new.status = 'succeeded'
   begin
     select raise(abort, '${RULES.postedByDatabase}') where new.posted_by is not '${POSTED_BY}';
     select raise(abort, '${RULES.twoAccounts}') where new.from_account_id is new.to_account_id;
     select raise(abort, '${RULES.oneCurrency}') where ${SAME_CURRENCY_ACCOUNTS} <> 2;
     ${MOVE_AND_POST}
   end`,
  `create trigger ${RULES.accountIdentityFixed} before update of ${IDENTITY_COLUMNS.join(', ')} on accounts
   when ${identityChanged('is not')}
   begin select raise(abort, '${RULES.accountIdentityFixed}'); end`,
  `create trigger ${RULES.journalAppendOnly}_update before update on transactions
   begin select raise(abort, '${RULES.journalAppendOnly}: the journal is append-only: UPDATE on transactions refused'); end`,
  `create trigger ${RULES.journalAppendOnly}_delete before delete on transactions
   begin select raise(abort, '${RULES.journalAppendOnly}: the journal is append-only: DELETE on transactions refused'); end`,
];

/**
 * Objects earlier migrations created for these rules (300, 310, 320 and this module's own
 * names), dropped before the current ones are created: `[trigger, table]`, and PostgreSQL functions.
 */
const TRIGGERS: ReadonlyArray<readonly [string, string]> = [
  ['transfers_post', 'transfers'],
  ['accounts_primary_balance_to_user', 'accounts'],
  ['transactions_append_only', 'transactions'],
  ['transactions_no_truncate', 'transactions'],
  ['transactions_no_update', 'transactions'],
  ['transactions_no_delete', 'transactions'],
  [RULES.noOverdraft, 'accounts'],
  [RULES.journalAppendOnly, 'transactions'],
  [`${RULES.journalAppendOnly}_truncate`, 'transactions'],
  [`${RULES.journalAppendOnly}_update`, 'transactions'],
  [`${RULES.journalAppendOnly}_delete`, 'transactions'],
  [RULES.accountIdentityFixed, 'accounts'],
];
const PG_FUNCTIONS = [
  'post_transfer',
  'primary_balance_to_user',
  RULES.noOverdraft,
  RULES.userBalanceMirror,
  RULES.posting,
  RULES.journalAppendOnly,
  RULES.accountIdentityFixed,
];

/** (Re)installs every trigger above, in the migration's transaction. */
export async function installMoneyRule(knex: Knex): Promise<void> {
  const pg = dbClient(knex) === 'pg';
  for (const [trigger, table] of TRIGGERS) {
    await knex.raw(pg ? `drop trigger if exists ${trigger} on ${table}` : `drop trigger if exists ${trigger}`);
  }
  if (pg) for (const fn of PG_FUNCTIONS) await knex.raw(`drop function if exists ${fn}()`);
  for (const statement of pg ? POSTGRES : SQLITE) await knex.raw(statement);
}

export type RuleName = (typeof RULES)[keyof typeof RULES] | (typeof TABLE_CONSTRAINTS)[keyof typeof TABLE_CONSTRAINTS];
const NAMES = new Set<string>([...Object.values(RULES), ...Object.values(TABLE_CONSTRAINTS)]);

/**
 * Which rule a database error says was broken, if any. PostgreSQL names it: SQLSTATE 23514
 * (check) or 23503 (foreign key) with the constraint's name. node-sqlite3 gives only the code
 * SQLITE_CONSTRAINT and a message, which knex prefixes with the failed SQL; the message ends with
 * the rule's name for our triggers ("SQLITE_CONSTRAINT: accounts_no_overdraft") and for named
 * CHECKs ("CHECK constraint failed: transfers_amount_check"), so the name is the text after the
 * last ": ", compared exactly with the names above. SQLite's foreign-key failure has no name
 * ("FOREIGN KEY constraint failed"); the only foreign key a transfer row can break is its initiator.
 */
export function brokenRule(err: unknown): RuleName | undefined {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (e?.code === '23514' || e?.code === '23503') {
    return typeof e.constraint === 'string' && NAMES.has(e.constraint) ? (e.constraint as RuleName) : undefined;
  }
  if (e?.code !== 'SQLITE_CONSTRAINT' || typeof e.message !== 'string') return undefined;
  if (e.message.endsWith('SQLITE_CONSTRAINT: FOREIGN KEY constraint failed')) return TABLE_CONSTRAINTS.initiatorIsUser;
  const name = e.message.slice(e.message.lastIndexOf(': ') + 2);
  return NAMES.has(name) ? (name as RuleName) : undefined;
}
