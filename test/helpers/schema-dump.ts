import type { Knex } from 'knex';
import { dbClient } from '#shared/db.js';

/**
 * The schema of a database as sorted text lines, to compare two databases: what `diffSchemas`
 * reports is what one database has and the other lacks. SQLite: every object of sqlite_master
 * with its SQL (whitespace collapsed). PostgreSQL (the current schema): columns with type,
 * default and nullability, constraints, indexes, triggers, functions and views, each as
 * PostgreSQL prints its definition back. Column order is left out: a column added later comes
 * last whichever path added it.
 */
export async function schemaDump(db: Knex): Promise<string[]> {
  const lines =
    dbClient(db) === 'pg'
      ? await pgDump(db)
      : (
          (await db.raw(
            `select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%'`,
          )) as Array<{ type: string; name: string; tbl_name: string; sql: string | null }>
        ).map((r) => `${r.type} ${r.name} on ${r.tbl_name}: ${(r.sql ?? '').replace(/\s+/g, ' ').trim()}`);
  return lines.sort();
}

async function pgDump(db: Knex): Promise<string[]> {
  const rows = async (sql: string) =>
    ((await db.raw(sql)) as { rows: Array<{ line: string }> }).rows.map((r) => r.line);
  return [
    ...(await rows(`select 'column ' || table_name || '.' || column_name || ' ' || data_type
        || coalesce('(' || character_maximum_length || ')', '')
        || case is_nullable when 'NO' then ' not null' else '' end
        || coalesce(' default ' || column_default, '') as line
      from information_schema.columns where table_schema = current_schema()`)),
    ...(await rows(`select 'constraint ' || conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) as line
      from pg_constraint where connamespace = current_schema()::regnamespace`)),
    ...(await rows(`select 'index ' || indexname || ': ' || indexdef as line
      from pg_indexes where schemaname = current_schema()`)),
    ...(await rows(`select 'trigger ' || tgname || ': ' || pg_get_triggerdef(t.oid) as line
      from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where not tgisinternal and c.relnamespace = current_schema()::regnamespace`)),
    ...(await rows(`select 'function ' || proname || ': ' || pg_get_functiondef(oid) as line
      from pg_proc where pronamespace = current_schema()::regnamespace`)),
    ...(await rows(`select 'view ' || viewname || ': ' || pg_get_viewdef((schemaname || '.' || viewname)::regclass) as line
      from pg_views where schemaname = current_schema()`)),
  ];
}

/** What `actual` has that `expected` lacks (+) and the reverse (-); empty when the schemas are equal. */
export function diffSchemas(expected: string[], actual: string[]): string[] {
  const want = new Set(expected);
  const have = new Set(actual);
  return [
    ...expected.filter((l) => !have.has(l)).map((l) => `- ${l}`),
    ...actual.filter((l) => !want.has(l)).map((l) => `+ ${l}`),
  ];
}
