import type { Knex } from 'knex';
import { dbClient } from '#shared/db.js';
import { RULES } from '../ledger/rules.js';

/**
 * Moves the money rule into ledger/rules.ts: the triggers of migrations 300, 310 and 320 are
 * replaced by the ones rules.ts installs, and the no-overdraft rule moves from the CHECK
 * constraint on `accounts` (which SQLite cannot change without rebuilding the table) into the
 * `accounts_no_overdraft` trigger, which refuses with the same code and name as the CHECK did, so
 * the release on main (running as the other colour during a flip) still recognises the refusal.
 *
 * Contract step for `posted_by = 'application'`: the posting trigger now posts every succeeded
 * transfer and refuses one that says it was posted by an application (the way releases before
 * migration 320 moved money). No supported release writes that: the release on main writes
 * `posted_by = 'database'`.
 *
 * Only the newest migration that installs the money rule calls `installMoneyRule` (it installs
 * the current rules.ts, which may read columns only later migrations create): when a later
 * migration reinstalls it, remove the call from this one.
 */
const OVERDRAFT_CHECK = `, constraint ${RULES.noOverdraft} check (kind = 'settlement' or balance >= 0)`;

export async function up(knex: Knex): Promise<void> {
  if (dbClient(knex) === 'pg') {
    await knex.raw(`alter table accounts drop constraint if exists ${RULES.noOverdraft}`);
  } else {
    await dropSqliteOverdraftCheck(knex);
  }
  // The money rule itself is installed by a later migration (20261202000300, see above).
}

/**
 * SQLite's way to drop a CHECK: rebuild the table without it, inside the migration's
 * transaction. Foreign keys pointing at `accounts` (transfers) are deferred to the commit, by
 * which time every row is back under its old id.
 */
async function dropSqliteOverdraftCheck(knex: Knex): Promise<void> {
  const [table] = (await knex.raw(
    `select sql from sqlite_master where type = 'table' and name = 'accounts'`,
  )) as Array<{
    sql: string;
  }>;
  if (!table?.sql.includes(OVERDRAFT_CHECK)) return;
  const indexes = (await knex.raw(
    `select sql from sqlite_master where type = 'index' and tbl_name = 'accounts' and sql is not null`,
  )) as Array<{ sql: string }>;
  await knex.raw('PRAGMA defer_foreign_keys = ON');
  await knex.raw('create temp table accounts_before_rebuild as select * from accounts');
  await knex.raw('drop table accounts');
  await knex.raw(table.sql.replace(OVERDRAFT_CHECK, ''));
  await knex.raw('insert into accounts select * from accounts_before_rebuild');
  await knex.raw('drop table accounts_before_rebuild');
  for (const index of indexes) await knex.raw(index.sql);
}

export async function down(): Promise<void> {
  throw new Error(
    'irreversible: the money rule of rules.ts replaced the triggers of migrations 300-320; ' +
      'an older release runs on this schema as it is (see docs/ARCHITECTURE.md)',
  );
}
