import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { isDbUnavailable, serviceUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

/** Migrations listed explicitly, by name (a timestamp, so names sort in the order they must run). */
export type MigrationList = ReadonlyArray<readonly [string, Migration]>;

/** One list from several (a service's own migrations on top of the shared ones), in name order. */
export function mergeMigrations(...lists: MigrationList[]): MigrationList {
  const byName = new Map<string, readonly [string, Migration]>();
  for (const list of lists) for (const entry of list) byName.set(entry[0], entry);
  return [...byName.values()].sort(([a], [b]) => a.localeCompare(b));
}

/**
 * An explicit list works the same from TypeScript sources (tests) and compiled JavaScript
 * (containers), where a directory scan would need to know the file extension.
 */
export function migrationSource(list: MigrationList): Knex.MigrationSource<readonly [string, Migration]> {
  return {
    getMigrations: () => Promise.resolve([...list]),
    getMigrationName: ([name]) => name,
    getMigration: ([, migration]) => Promise.resolve({ down: () => Promise.resolve(), ...migration }),
  };
}

const MIGRATIONS_TABLE = 'knex_migrations';

export async function appliedMigrations(db: Knex): Promise<Set<string>> {
  if (!(await db.schema.hasTable(MIGRATIONS_TABLE))) return new Set();
  const rows: Array<{ name: string }> = await db(MIGRATIONS_TABLE).select('name');
  return new Set(rows.map((r) => r.name));
}

export interface SchemaState {
  /** Known migrations not applied yet: the schema is behind this release. */
  missing: string[];
  /** Applied migrations this release does not know: a newer release migrated the database. */
  unknown: string[];
}

export async function schemaState(db: Knex, list: MigrationList): Promise<SchemaState> {
  const applied = await appliedMigrations(db);
  const known = new Set(list.map(([name]) => name));
  return {
    missing: list.map(([name]) => name).filter((name) => !applied.has(name)),
    unknown: [...applied].filter((name) => !known.has(name)).sort(),
  };
}

export interface RetryOptions {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 30, initialDelayMs: 250, maxDelayMs: 5_000 };

/**
 * Brings the schema up to `list`: the one-shot migrate job is its only caller, so a single process
 * ever migrates a stack. A database a newer release has already migrated further (a rollback to
 * this release) is left as it is: migrations are expand-only, so this release runs on it. A
 * database that is both behind and ahead of this list has diverged and is refused. Retries, with
 * exponential backoff, only while the database is unreachable.
 */
export async function migrateToLatest(
  db: Knex,
  list: MigrationList,
  logger: Logger,
  retry: RetryOptions = DEFAULT_RETRY,
): Promise<string[]> {
  let delay = retry.initialDelayMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { missing, unknown } = await schemaState(db, list);
      if (unknown.length > 0 && missing.length > 0) {
        throw new Error(
          `the database schema has diverged from this release: it lacks ${missing.join(', ')} ` +
            `but has ${unknown.join(', ')}, which this release does not know`,
        );
      }
      if (unknown.length > 0) {
        logger.info({ newer: unknown }, 'database schema is ahead of this release (expand-only): nothing to do');
        return [];
      }
      const [, applied] = (await db.migrate.latest({ migrationSource: migrationSource(list) })) as [number, string[]];
      logger.info({ applied }, applied.length ? 'database migrated' : 'database schema up to date');
      return applied;
    } catch (err) {
      if (!isDbUnavailable(err) || attempt >= retry.attempts) throw err;
      logger.warn({ attempt, retryInMs: delay, err: (err as Error).message }, 'database not reachable, retrying');
      await sleep(delay);
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
}

export interface SchemaReport {
  ready: boolean;
  /** The newest migration this release needs. */
  required: string;
  missing: string[];
}

export interface SchemaCheck {
  report(): Promise<SchemaReport>;
  /** Throws 503 `schema_behind` while the schema lacks a migration this release needs. */
  ensure(): Promise<void>;
}

/**
 * A service's view of the schema: it never migrates, it checks that every migration it needs has
 * been applied (by the migrate job) and keeps checking until they have; once they have, the
 * answer is kept (a schema never goes back to an older version).
 */
export function createSchemaCheck(db: Knex, list: MigrationList, logger: Logger): SchemaCheck {
  const required = list.at(-1)?.[0] ?? '';
  let satisfied = false;
  let warned = false;
  async function report(): Promise<SchemaReport> {
    if (satisfied) return { ready: true, required, missing: [] };
    const { missing } = await schemaState(db, list);
    if (missing.length === 0) {
      satisfied = true;
      logger.info({ required }, 'database schema is at the version this release needs');
    } else if (!warned) {
      warned = true;
      logger.warn({ missing }, 'database schema is behind this release: waiting for the migrate job');
    }
    return { ready: missing.length === 0, required, missing };
  }
  return {
    report,
    async ensure() {
      if (satisfied || (await report()).ready) return;
      throw serviceUnavailable(
        'schema_behind',
        'La base de données n’est pas encore migrée pour cette version. Réessayez dans quelques instants.',
      );
    },
  };
}
