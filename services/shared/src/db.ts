import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';

export type { Knex };

/**
 * What a repository function runs its queries on: the process's Knex instance, or the
 * transaction a use case opened (`trx ?? db`), so that several repository calls can share one
 * transaction. Repositories never open a transaction of their own; use cases do.
 */
export type Queryable = Knex | Knex.Transaction;

/** Whether `db` is a transaction a caller opened (Knex marks its transactions). */
export function isTransaction(db: Queryable): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true;
}

export type DbClient = 'sqlite3' | 'pg';

export interface DatabaseTarget {
  client: DbClient;
  /** SQLite file path, or the PostgreSQL connection string. */
  connection: string;
}

/** How long a SQLite connection waits on another writer's lock before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Connections per process to a SQLite file. In WAL mode readers never wait for the writer, so
 * several connections let one request's reads run while another request's write holds the lock;
 * writes still take turns on the file's single write lock (busy_timeout). With one connection,
 * every query of every request queued behind the others: `npm run bench:transfers` went from
 * 270 to 521 transfers/s with 4 (and 535 with 8) on a 2-core machine. An in-memory database is
 * private to its connection, so it keeps exactly one.
 */
export const SQLITE_CONNECTIONS = 4;

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

/**
 * Knex copies the bound values into the message of a failed query by default: a session id, a
 * password hash or a typed username would then reach the logs with any 5xx. Every Knex instance of
 * the project is made with this option off (the message keeps the placeholders).
 */
export const NO_VALUES_IN_ERRORS = { compileSqlOnError: false } as const;

/** The one Knex instance of a process. Callers inject it; `db.destroy()` closes the pool. */
export function createDb(url: string): Knex {
  const target = parseDatabaseUrl(url);
  if (target.client === 'sqlite3') {
    if (target.connection !== ':memory:') mkdirSync(dirname(target.connection), { recursive: true });
    return knexFactory({
      ...NO_VALUES_IN_ERRORS,
      client: 'sqlite3',
      connection: { filename: target.connection },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: target.connection === ':memory:' ? 1 : SQLITE_CONNECTIONS,
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
    ...NO_VALUES_IN_ERRORS,
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
