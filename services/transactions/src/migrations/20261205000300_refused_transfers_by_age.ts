import type { Knex } from 'knex';

/**
 * Refused transfers are kept for a bounded time (REFUSED_TRANSFER_RETENTION_DAYS, housekeeping.ts):
 * this index lets the purge find the old ones without reading the whole table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transfers', (t) => {
    t.index(['status', 'created_at'], 'transfers_status_created_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transfers', (t) => {
    t.dropIndex(['status', 'created_at'], 'transfers_status_created_at');
  });
}
