import type { Knex } from 'knex';

/**
 * `users.balance` (the original spec's field) mirrors the user's primary account. A trigger keeps
 * it so inside the statement that changes the account balance: the same transaction by
 * construction, whatever code moves the money, and one round trip less per transfer.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      create function primary_balance_to_user() returns trigger language plpgsql as $$
      begin
        update users set balance = new.balance where id = new.user_id;
        return null;
      end $$`);
    await knex.raw(`create trigger accounts_primary_balance_to_user after update of balance on accounts
      for each row when (new.kind = 'primary' and new.balance is distinct from old.balance)
      execute function primary_balance_to_user()`);
  } else {
    await knex.raw(`create trigger accounts_primary_balance_to_user after update of balance on accounts
      when new.kind = 'primary' and new.balance is not old.balance
      begin update users set balance = new.balance where id = new.user_id; end`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('drop trigger if exists accounts_primary_balance_to_user on accounts');
    await knex.raw('drop function if exists primary_balance_to_user()');
  } else {
    await knex.raw('drop trigger if exists accounts_primary_balance_to_user');
  }
}
