import type { Knex } from 'knex';
import { usernameKey } from '../contract/usernames.js';
import { dbClient } from '../db.js';

/**
 * One identity per name, case-insensitively: `users.username_key` (contract/usernames.ts)
 * with a unique index. A database that already holds case-twins (`alice` and `Alice`) keeps the
 * older account (lowest id) under its name and renames each newer one deterministically to
 * `<name>-<id>` (with one more `-<id>` while that too is taken); every rename is recorded in
 * `username_renames` so an administrator can tell the user (docs/ARCHITECTURE.md, §2).
 *
 * Expand step: the release on main, which may still run as the other colour (or come back by
 * rollback), inserts users without a key; a trigger fills it with the database's `lower()` of
 * the name, which equals the key for every name that release accepts (ASCII letters, digits,
 * `_ . -`). Its twins are refused by the unique index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('username_renames', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('old_username', 64).notNullable();
    t.string('new_username', 64).notNullable();
    t.timestamp('renamed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable('users', (t) => {
    // NFKC may lengthen a name: text, not the 64 characters of `username`.
    t.text('username_key').nullable();
  });

  const users: Array<{ id: number; username: string }> = await knex('users').select('id', 'username').orderBy('id');
  const taken = new Set(users.map((u) => usernameKey(u.username)));
  const seen = new Set<string>();
  for (const user of users) {
    let username = user.username;
    if (seen.has(usernameKey(username))) {
      username = freeName(username, user.id, taken);
      taken.add(usernameKey(username));
      await knex('username_renames').insert({ user_id: user.id, old_username: user.username, new_username: username });
    }
    seen.add(usernameKey(username));
    await knex('users')
      .where({ id: user.id })
      .update({ username, username_key: usernameKey(username) });
  }

  await knex.raw('create unique index users_username_key_unique on users (username_key)');
  if (dbClient(knex) === 'pg') {
    await knex.raw(`
      create function users_username_key_default() returns trigger language plpgsql as $$
      begin
        if new.username_key is null then new.username_key := lower(new.username); end if;
        return new;
      end $$`);
    await knex.raw(`
      create trigger users_username_key_default before insert on users
      for each row execute function users_username_key_default()`);
  } else {
    await knex.raw(`
      create trigger users_username_key_default after insert on users
      when new.username_key is null
      begin
        update users set username_key = lower(new.username) where id = new.id;
      end`);
  }
}

/** `<name>-<id>`, `<name>-<id>-<id>`… (cut to the column's 64 characters): the first one free. */
function freeName(username: string, id: number, taken: ReadonlySet<string>): string {
  for (let copies = 1; ; copies += 1) {
    const suffix = `-${id}`.repeat(copies);
    const candidate = `${username.slice(0, 64 - suffix.length)}${suffix}`;
    if (!taken.has(usernameKey(candidate))) return candidate;
  }
}
