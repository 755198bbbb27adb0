import type { Knex } from 'knex';
import { dbClient } from '#shared/db.js';

/**
 * A transfer's or a deposit's audit row is written by the database, in the transfer's own INSERT:
 * a transfer stays one statement (rules.ts), however many replicas or releases insert them. The
 * row carries the request id and client address it was asked with (`request_id`, `client_ip`,
 * null for rows the application did not write, such as a manual deposit) so that its audit row
 * names them. The row is unsealed; the sealer (shared/src/audit.ts) chains it.
 */
const SQLITE = `create trigger transfers_audited after insert on transfers
  begin
    insert into audit_events (occurred_at, request_id, actor_id, actor, client_ip, event, outcome, details)
    values (new.created_at, new.request_id, new.initiated_by, null, new.client_ip, new.kind,
      case new.status when 'succeeded' then 'accepted' else 'refused' end,
      json_object('reference', new.reference,
        'amount', printf('%d.%02d', new.amount / 100, new.amount % 100),
        'currency', new.currency,
        'fromAccount', (select number from accounts where id = new.from_account_id),
        'toAccount', (select number from accounts where id = new.to_account_id),
        'refusal', new.failure_code));
  end`;

const POSTGRES = [
  `create function transfers_audited() returns trigger language plpgsql as $$
  begin
    insert into audit_events (occurred_at, request_id, actor_id, actor, client_ip, event, outcome, details)
    values (to_char(new.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), new.request_id,
      new.initiated_by, null, new.client_ip, new.kind,
      case new.status when 'succeeded' then 'accepted' else 'refused' end,
      json_build_object('reference', new.reference,
        'amount', (new.amount / 100)::text || '.' || lpad((new.amount % 100)::text, 2, '0'),
        'currency', new.currency,
        'fromAccount', (select number from accounts where id = new.from_account_id),
        'toAccount', (select number from accounts where id = new.to_account_id),
        'refusal', new.failure_code)::text);
    return null;
  end $$`,
  `create trigger transfers_audited after insert on transfers for each row execute function transfers_audited()`,
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transfers', (t) => {
    t.string('request_id', 128).nullable();
    t.string('client_ip', 64).nullable();
  });
  for (const statement of dbClient(knex) === 'pg' ? POSTGRES : [SQLITE]) await knex.raw(statement);
}

export async function down(knex: Knex): Promise<void> {
  if (dbClient(knex) === 'pg') {
    await knex.raw('drop trigger transfers_audited on transfers');
    await knex.raw('drop function transfers_audited()');
  } else {
    await knex.raw('drop trigger transfers_audited');
  }
  await knex.schema.alterTable('transfers', (t) => {
    t.dropColumn('request_id');
    t.dropColumn('client_ip');
  });
}
