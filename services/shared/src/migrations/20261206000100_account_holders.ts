import type { Knex } from 'knex';

/**
 * `account_holders`: the read-only view of `users` that the web service (owner of `users`)
 * defines for the transactions service, which must not read or lock `users` itself
 * (docs/ARCHITECTURE.md §2, lint rule table-ownership). Only what the transactions service needs:
 * the id (accounts.user_id), the name shown as owner or counterparty, its key (transfers to a
 * username) and the admin flag (admin-only routes). No password hash, no balance.
 *
 * Owned by the web service; it lives in the shared list because both services' schema lists
 * include it. Expand only: the release that reads `users` directly keeps working.
 *
 * On SQLite, Knex rebuilds a table to alter or drop a column (copy, drop, rename), and the rename
 * fails while a view or trigger names the dropped table: a later migration that rebuilds `users`
 * drops this view first and creates it again after.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create view account_holders as select id, username, username_key, is_admin from users`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop view if exists account_holders`);
}
