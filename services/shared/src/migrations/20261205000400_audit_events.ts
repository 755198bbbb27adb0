import type { Knex } from 'knex';
import { AUDIT_GENESIS_HASH } from '../audit.js';
import { dbClient } from '../db.js';

/**
 * The audit trail (shared/src/audit.ts): `audit_events`, append-only and hash-chained, and
 * `audit_chain`, its one-row head (the last sequence number and hash), which every writer updates
 * first and so takes in turn. Triggers refuse UPDATE and DELETE on `audit_events` (and TRUNCATE on
 * PostgreSQL), and DELETE on the head, as for the journal.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('seq').notNullable().unique();
    // ISO-8601 text as hashed: the same characters on both databases.
    t.string('occurred_at', 32).notNullable().index();
    t.string('request_id', 128).nullable();
    // No foreign key: a user whose registration is undone keeps their audit rows.
    t.integer('actor_id').nullable().index();
    t.string('actor', 64).nullable();
    t.string('client_ip', 64).nullable();
    t.string('event', 40).notNullable().index();
    t.string('outcome', 40).notNullable();
    t.text('details').notNullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
  });
  await knex.schema.createTable('audit_chain', (t) => {
    t.integer('id').primary();
    t.bigInteger('seq').notNullable();
    t.string('last_hash', 64).notNullable();
    t.check('id = 1', [], 'audit_chain_one_row');
  });
  await knex('audit_chain').insert({ id: 1, seq: 0, last_hash: AUDIT_GENESIS_HASH });
  if (dbClient(knex) === 'pg') {
    await knex.raw(`create function audit_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_append_only: the audit trail is append-only: % on % refused', tg_op, tg_table_name; end $$`);
    await knex.raw(`create trigger audit_append_only before update or delete on audit_events
      for each row execute function audit_append_only()`);
    await knex.raw(`create trigger audit_append_only_truncate before truncate on audit_events
      for each statement execute function audit_append_only()`);
    await knex.raw(`create trigger audit_chain_kept before delete on audit_chain
      for each row execute function audit_append_only()`);
    await knex.raw(`create trigger audit_chain_kept_truncate before truncate on audit_chain
      for each statement execute function audit_append_only()`);
  } else {
    for (const op of ['update', 'delete']) {
      await knex.raw(`create trigger audit_append_only_${op} before ${op} on audit_events
        begin select raise(abort, 'audit_append_only: the audit trail is append-only: ${op.toUpperCase()} on audit_events refused'); end`);
    }
    await knex.raw(`create trigger audit_chain_kept before delete on audit_chain
      begin select raise(abort, 'audit_append_only: DELETE on audit_chain refused'); end`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (dbClient(knex) === 'pg') {
    await knex.raw('drop table audit_events');
    await knex.raw('drop table audit_chain');
    await knex.raw('drop function audit_append_only()');
  } else {
    await knex.schema.dropTable('audit_events');
    await knex.schema.dropTable('audit_chain');
  }
}
