import type { Knex } from 'knex';
import { dbClient } from '#shared/db.js';
import { installMoneyRule, RULES } from '../ledger/rules.js';

/**
 * Adds the `accounts_identity_fixed` rule (ledger/rules.ts): an UPDATE that changes an account's
 * number, owner, currency or kind is refused; balances still move by posting. No release writes
 * those columns after opening an account, so the release on main, running as the other colour
 * during a flip, is not affected (expand only). This is now the newest migration that installs
 * the money rule: it reinstalls every trigger of rules.ts.
 */
export async function up(knex: Knex): Promise<void> {
  await installMoneyRule(knex);
}

/** Drops this rule only; the other triggers stay as installed. */
export async function down(knex: Knex): Promise<void> {
  const pg = dbClient(knex) === 'pg';
  await knex.raw(`drop trigger if exists ${RULES.accountIdentityFixed}${pg ? ' on accounts' : ''}`);
  if (pg) await knex.raw(`drop function if exists ${RULES.accountIdentityFixed}()`);
}
