import type { Knex } from 'knex';

/**
 * Guarantees users.password_hash is VARCHAR(255) on PostgreSQL. Databases created by the first
 * Flask version had a narrower column, and modern hashes overflowed it ("value too long").
 * SQLite does not enforce VARCHAR lengths, so there is nothing to do there.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  const row = await knex('information_schema.columns')
    .select('character_maximum_length')
    .whereRaw('table_schema = current_schema()')
    .andWhere({ table_name: 'users', column_name: 'password_hash' })
    .first<{ character_maximum_length: number | null } | undefined>();
  const length = row?.character_maximum_length;
  if (length !== null && length !== undefined && length < 255) {
    await knex.raw('ALTER TABLE users ALTER COLUMN password_hash TYPE VARCHAR(255)');
  }
}

export async function down(): Promise<void> {
  // Narrowing the column back could truncate hashes: intentionally irreversible.
}
