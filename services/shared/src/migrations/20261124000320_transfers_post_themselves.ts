import type { Knex } from 'knex';

/**
 * A succeeded transfer posts itself: inserting its `transfers` row moves both balances and writes
 * the two journal postings, inside that one INSERT statement. A transfer is then a single round
 * trip to the database, atomic without an explicit transaction, and the books cannot drift from
 * the transfer list whatever code inserts the row.
 *
 * The overdraft refusal stays the `accounts_no_overdraft` CHECK constraint (migration 300): when
 * the debit would take a customer account below zero, the whole INSERT fails and nothing is
 * written. The trigger also refuses a row whose two accounts are not two different accounts of
 * the transfer's currency.
 *
 * Expand-only, so that blue/green rollback stays safe: only rows inserted with
 * `posted_by = 'database'` post themselves. An older release, still running as the other colour
 * during a flip or brought back by a rollback, inserts rows with the default `'application'` and
 * moves the money itself, exactly as before; nothing is moved twice.
 */
/** The same two statements in both trigger bodies: both balances, then the two postings. */
const MOVE_AND_POST = `
  update accounts
    set balance = balance + case when id = new.from_account_id then -new.amount else new.amount end
    where id in (new.from_account_id, new.to_account_id);
  insert into transactions (user_id, account_id, transfer_id, amount, currency, type, label, created_at)
    select user_id, number, new.id,
           case when id = new.from_account_id then -new.amount else new.amount end,
           currency, new.kind, new.label, new.created_at
    from accounts where id in (new.from_account_id, new.to_account_id)
    order by id = new.to_account_id;`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('transfers', (t) => {
    t.string('posted_by', 16).notNullable().defaultTo('application');
  });
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      create function post_transfer() returns trigger language plpgsql as $$
      begin
        if new.from_account_id is not distinct from new.to_account_id
          or (select count(*) from accounts
              where id in (new.from_account_id, new.to_account_id) and currency = new.currency) <> 2 then
          raise exception 'transfer % must move money between two different % accounts',
            new.reference, new.currency;
        end if;
        -- Row locks in a stable order: two opposite transfers can never wait on each other.
        -- NO KEY UPDATE (what the UPDATE takes anyway) does not block other transactions'
        -- foreign-key checks, which take KEY SHARE on these rows.
        perform 1 from accounts where id in (new.from_account_id, new.to_account_id)
          order by id for no key update;
        ${MOVE_AND_POST}
        return null;
      end $$`);
    await knex.raw(`create trigger transfers_post after insert on transfers
      for each row when (new.posted_by = 'database' and new.status = 'succeeded')
      execute function post_transfer()`);
  } else {
    // SQLite has one writer: the INSERT that fires this trigger already holds the write lock.
    await knex.raw(`create trigger transfers_post after insert on transfers
      when new.posted_by = 'database' and new.status = 'succeeded'
      begin
        select raise(abort, 'a transfer must move money between two different accounts of its currency')
          where new.from_account_id is new.to_account_id
             or (select count(*) from accounts
                 where id in (new.from_account_id, new.to_account_id) and currency = new.currency) <> 2;
        ${MOVE_AND_POST}
      end`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('drop trigger if exists transfers_post on transfers');
    await knex.raw('drop function if exists post_transfer()');
  } else {
    await knex.raw('drop trigger if exists transfers_post');
  }
  await knex.schema.alterTable('transfers', (t) => {
    t.dropColumn('posted_by');
  });
}
