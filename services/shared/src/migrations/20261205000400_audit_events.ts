import type { Knex } from 'knex';
import { AUDIT_GENESIS_HASH } from '../audit.js';
import { dbClient } from '../db.js';

/**
 * The audit trail (shared/src/audit.ts): `audit_events`, append-only and hash-chained, and
 * `audit_chain`, its one-row head (the last sequence number and hash). A row is written unsealed
 * (`seq`, `prev_hash`, `hash` null) and sealed once by the sealer, which takes the head first and
 * so runs one at a time. Triggers refuse DELETE on `audit_events` (and TRUNCATE on PostgreSQL),
 * every UPDATE but that sealing (an unsealed row given its chain columns, nothing else changed),
 * and DELETE on the head, as for the journal.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('seq').nullable().unique();
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
    t.string('prev_hash', 64).nullable();
    t.string('hash', 64).nullable();
  });
  // What the sealer looks for: the few unsealed rows, without reading the whole trail.
  await knex.raw('create index audit_events_unsealed on audit_events (id) where hash is null');
  await knex.schema.createTable('audit_chain', (t) => {
    t.integer('id').primary();
    t.bigInteger('seq').notNullable();
    t.string('last_hash', 64).notNullable();
    t.check('id = 1', [], 'audit_chain_one_row');
  });
  await knex('audit_chain').insert({ id: 1, seq: 0, last_hash: AUDIT_GENESIS_HASH });
  if (dbClient(knex) === 'pg') {
    await knex.raw(`create function audit_append_only() returns trigger language plpgsql as $$
      begin
        -- Nested: the inner test reads audit_events' columns, which the other tables do not have.
        if tg_op = 'UPDATE' and tg_table_name = 'audit_events' then
          if old.hash is null and new.hash is not null
             and (new.id, new.occurred_at, new.request_id, new.actor_id, new.actor, new.client_ip, new.event,
                  new.outcome, new.details)
                 is not distinct from (old.id, old.occurred_at, old.request_id, old.actor_id, old.actor,
                  old.client_ip, old.event, old.outcome, old.details) then
            return new;
          end if;
        end if;
        raise exception 'audit_append_only: the audit trail is append-only: % on % refused', tg_op, tg_table_name;
      end $$`);
    await knex.raw(`create trigger audit_append_only before update or delete on audit_events
      for each row execute function audit_append_only()`);
    await knex.raw(`create trigger audit_append_only_truncate before truncate on audit_events
      for each statement execute function audit_append_only()`);
    await knex.raw(`create trigger audit_chain_kept before delete on audit_chain
      for each row execute function audit_append_only()`);
    await knex.raw(`create trigger audit_chain_kept_truncate before truncate on audit_chain
      for each statement execute function audit_append_only()`);
  } else {
    await knex.raw(`create trigger audit_append_only_update before update on audit_events
      when old.hash is not null or new.hash is null or new.id is not old.id
        or new.occurred_at is not old.occurred_at or new.request_id is not old.request_id
        or new.actor_id is not old.actor_id or new.actor is not old.actor or new.client_ip is not old.client_ip
        or new.event is not old.event or new.outcome is not old.outcome or new.details is not old.details
      begin select raise(abort, 'audit_append_only: the audit trail is append-only: UPDATE on audit_events refused'); end`);
    await knex.raw(`create trigger audit_append_only_delete before delete on audit_events
      begin select raise(abort, 'audit_append_only: the audit trail is append-only: DELETE on audit_events refused'); end`);
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
