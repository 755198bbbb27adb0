import type { Knex } from 'knex';
import { usernameRuleBroken } from '#shared/contract/usernames.js';

/**
 * Usernames registered before the identity rule (#shared/contract/usernames.ts) that break it: a
 * name with an account number's shape (`FT5555555555`) or a reserved one (`Banque`). They are not
 * renamed here (a user's name is what they log in with): each is listed in `username_reviews`,
 * once, for the operator to rename and tell the user (docs/ARCHITECTURE.md, §8). Transfers can no
 * longer reach them by such a name anyway: an account-number shape is only read as a number.
 * An administrator holding a reserved name (the demo `admin`) is not listed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('username_reviews', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('username', 64).notNullable();
    t.string('rule_broken', 32).notNullable();
    t.timestamp('found_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  const users: Array<{ id: number; username: string; is_admin: boolean | number }> = await knex('users')
    .select('id', 'username', 'is_admin')
    .orderBy('id');
  const found = users.flatMap((user) => {
    const broken = usernameRuleBroken(user.username);
    if (!broken || (broken === 'reserved' && Boolean(user.is_admin))) return [];
    return [{ user_id: user.id, username: user.username, rule_broken: broken }];
  });
  if (found.length > 0) await knex('username_reviews').insert(found);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('username_reviews');
}
