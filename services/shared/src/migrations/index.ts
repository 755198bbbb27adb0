import type { MigrationList } from './runner.js';
import * as initialSchema from './20261124000100_initial_schema.js';
import * as passwordHash255 from './20261124000200_password_hash_255.js';
import * as accountsTransfersJournal from './20261124000300_accounts_transfers_journal.js';
import * as usersBalanceFollowsPrimary from './20261124000310_users_balance_follows_primary.js';
import * as transfersPostThemselves from './20261124000320_transfers_post_themselves.js';
import * as auditEvents from './20261205000400_audit_events.js';
import * as usernameKey from './20261202000100_username_key.js';
import * as accountHolders from './20261206000100_account_holders.js';

/**
 * The schema both services share (tables and columns), in order. These files are history: a
 * database that ran one never runs it again, so they are never edited. The money rule's triggers
 * that 300, 310 and 320 first created are now installed from transactions/src/ledger/rules.ts by
 * the transactions service's own migrations (transactions/src/migrations). `users.username_key`
 * is here because both services read it (logins; transfers to a username). Each table still has
 * one owner (eslint-rules/table-owners.js): the list is shared, the tables are not.
 */
export const SHARED_MIGRATIONS: MigrationList = [
  ['20261124000100_initial_schema', initialSchema],
  ['20261124000200_password_hash_255', passwordHash255],
  ['20261124000300_accounts_transfers_journal', accountsTransfersJournal],
  ['20261124000310_users_balance_follows_primary', usersBalanceFollowsPrimary],
  ['20261124000320_transfers_post_themselves', transfersPostThemselves],
  ['20261202000100_username_key', usernameKey],
  ['20261205000400_audit_events', auditEvents],
  // Owned by the web service: its read-only view of `users` for the transactions service.
  ['20261206000100_account_holders', accountHolders],
];
