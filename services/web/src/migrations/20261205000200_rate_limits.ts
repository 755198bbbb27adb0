import type { Knex } from 'knex';

/**
 * The counters of every rate limit of the web service (auth/rate-limits.ts), shared by all its
 * replicas and both colours: rate-limiter-flexible's table layout (key, points, expire in epoch
 * milliseconds; `expire` null never expires). Rows whose `expire` has passed count as empty and
 * are purged by the housekeeping timer, like expired sessions.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire').nullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
}
