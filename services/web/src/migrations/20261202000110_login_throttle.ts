import type { Knex } from 'knex';

/**
 * The login throttle's counters (auth/login-throttle.ts), shared by every replica and both
 * colours: one row per key (`u:<username key>` or `ip:<address>`), epoch milliseconds like
 * `sessions.expires_at`. A row whose window has ended counts as empty and is purged on schedule.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_throttle', (t) => {
    // Text: a username key may be longer than the name typed (NFKC).
    t.text('key').primary();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('window_ends_at').notNullable().index();
    t.integer('in_flight').notNullable().defaultTo(0);
    t.bigInteger('in_flight_until').notNullable().defaultTo(0);
  });
}
