import type { Knex } from 'knex';

/**
 * Idempotent account opening (expand only): `accounts.opening_key` holds the idempotency key of
 * the signed POST /api/accounts that opened a current account, unique per user, so a replayed
 * request finds the account it opened instead of opening another. Rows opened before (and by a
 * release that sends no key) keep NULL, which the partial unique index ignores.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.string('opening_key', 128).nullable();
  });
  await knex.raw(
    'create unique index accounts_opening_key_unique on accounts (user_id, opening_key) where opening_key is not null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists accounts_opening_key_unique');
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('opening_key');
  });
}
