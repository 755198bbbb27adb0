import type { Knex } from 'knex';

/**
 * Users, sessions and the original spec's transaction table.
 * A database left by the earlier Flask app may already have a `users` table: it is kept and
 * completed with the columns this version needs instead of being recreated.
 */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('users'))) {
    await knex.schema.createTable('users', (t) => {
      t.increments('id').primary();
      t.string('username', 64).notNullable().unique();
      t.string('password_hash', 255).notNullable();
      // Minor units (cents): exact, never a float.
      t.bigInteger('balance').notNullable().defaultTo(0);
      t.boolean('is_admin').notNullable().defaultTo(false);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  } else {
    for (const [column, add] of [
      ['balance', (t: Knex.AlterTableBuilder) => t.bigInteger('balance').notNullable().defaultTo(0)],
      ['is_admin', (t: Knex.AlterTableBuilder) => t.boolean('is_admin').notNullable().defaultTo(false)],
      ['created_at', (t: Knex.AlterTableBuilder) => t.timestamp('created_at', { useTz: true }).nullable()],
    ] as const) {
      if (!(await knex.schema.hasColumn('users', column))) {
        await knex.schema.alterTable('users', (t) => {
          add(t);
        });
      }
    }
  }

  await knex.schema.createTable('sessions', (t) => {
    t.string('id', 128).primary();
    t.text('data').notNullable();
    t.integer('user_id').nullable().references('id').inTable('users').onDelete('CASCADE');
    // Epoch milliseconds: compared with Date.now() by the store, same on both databases.
    t.bigInteger('expires_at').notNullable().index();
  });

  await knex.schema.createTable('transactions', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users');
    t.string('account_id', 34).notNullable();
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.string('type', 32).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id', 'created_at']);
    t.index(['account_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('transactions');
  await knex.schema.dropTableIfExists('sessions');
  await knex.schema.dropTableIfExists('users');
}
