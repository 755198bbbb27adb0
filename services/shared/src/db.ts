import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';

export type { Knex };
export type DbClient = 'sqlite3' | 'pg';

export interface DatabaseTarget {
  client: DbClient;
  /** SQLite file path, or the PostgreSQL connection string. */
  connection: string;
}

/** How long a SQLite connection waits on another writer's lock before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Parses DATABASE_URL. SQLite URLs follow SQLAlchemy's convention, as in the original spec:
 * `sqlite:///./relative.db` (three slashes + relative path), `sqlite:////absolute.db` (four).
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:///')) {
    const path = url.slice('sqlite:///'.length);
    if (path === '') throw new Error('DATABASE_URL: the SQLite path is empty');
    return { client: 'sqlite3', connection: path === ':memory:' ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { client: 'pg', connection: url };
  throw new Error('DATABASE_URL must start with sqlite:/// or postgresql://');
}

interface SqliteConnection {
  run(sql: string, cb: (err: Error | null) => void): void;
}

function runPragmas(conn: SqliteConnection, pragmas: string[], done: (err: Error | null, conn: unknown) => void): void {
  const [first, ...rest] = pragmas;
  if (first === undefined) {
    done(null, conn);
    return;
  }
  conn.run(first, (err) => (err ? done(err, conn) : runPragmas(conn, rest, done)));
}

/** The one Knex instance of a process. Callers inject it; `db.destroy()` closes the pool. */
export function createDb(url: string): Knex {
  const target = parseDatabaseUrl(url);
  if (target.client === 'sqlite3') {
    if (target.connection !== ':memory:') mkdirSync(dirname(target.connection), { recursive: true });
    return knexFactory({
      client: 'sqlite3',
      connection: { filename: target.connection },
      useNullAsDefault: true,
      // One connection per process: SQLite has one writer anyway, and a single connection
      // serialises this process's transactions instead of making them fight for the lock.
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) =>
          runPragmas(
            conn,
            [
              'PRAGMA journal_mode=WAL',
              `PRAGMA busy_timeout=${SQLITE_BUSY_TIMEOUT_MS}`,
              'PRAGMA foreign_keys=ON',
              'PRAGMA synchronous=NORMAL',
            ],
            done,
          ),
      },
    });
  }
  return knexFactory({
    client: 'pg',
    connection: target.connection,
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 5_000,
  });
}

export function dbClient(db: Knex): DbClient {
  return db.client.config.client === 'pg' ? 'pg' : 'sqlite3';
}

/** Cheap liveness probe used by /ready. */
export async function pingDb(db: Knex): Promise<void> {
  await db.raw('select 1');
}
