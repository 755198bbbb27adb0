/**
 * Backup and restore benchmark (not part of `npm test`): `npm run bench:backup`.
 *
 * Starts a PostgreSQL 16 container of POSTGRES_IMAGE (default: the offline image when it is on
 * this host, else postgres:16) as the database of a throwaway Compose-like project
 * (BANK_DB_PROJECT=bank-bench: no fixed port, nothing shared with the stacks), migrates it with
 * the stack's own migrations, seeds the demo users and posts BENCH_TRANSFERS (100,000) transfers
 * between them through the ledger's own trigger (rows with posted_by = 'database', as the
 * transactions service inserts them). Then it times scripts/db-backup.sh prod and
 * scripts/db-restore.sh prod latest (verify, unpack, recover, ledger checks, switch) and prints
 * the database size, the backup size and the durations. Needs Docker.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrateDatabase } from '#jobs/migrate.js';
import { seedDatabase } from '#jobs/seed.js';
import { createDb } from '#shared/db.js';
import { createLogger } from '#shared/logger.js';
import { intEnv } from './env.js';

const TRANSFERS = intEnv('BENCH_TRANSFERS', 100_000);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROJECT = 'bank-bench';
const NAME = `${PROJECT}-db-${process.pid}`;
const PASSWORD = 'bench-only-password';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

function image(): string {
  if (process.env.POSTGRES_IMAGE) return process.env.POSTGRES_IMAGE;
  const offline = spawnSync('docker', ['image', 'inspect', 'bank-offline/postgres:16'], { stdio: 'ignore' });
  return offline.status === 0 ? 'bank-offline/postgres:16' : 'postgres:16';
}

/** Runs one of the repository's scripts against the bench project; returns seconds and stderr. */
function timed(script: string, args: string[], env: Record<string, string>): { seconds: number; log: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', [join(ROOT, 'scripts', script), ...args], {
    env: { ...process.env, BANK_DB_PROJECT: PROJECT, ...env },
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${script} exited ${result.status}\n${result.stderr}`);
  return { seconds, log: result.stderr };
}

async function main(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), 'bank-bench-backup-'));
  const logger = createLogger('bench', 'warn');
  const pg = image();
  console.log(`bench:backup: ${TRANSFERS} transfers on ${pg}`);
  docker(
    'run',
    '-d',
    '--name',
    NAME,
    '--label',
    `com.docker.compose.project=${PROJECT}`,
    '--label',
    'com.docker.compose.service=db',
    '-e',
    'POSTGRES_USER=bank',
    '-e',
    'POSTGRES_DB=bankdb',
    '-e',
    `POSTGRES_PASSWORD=${PASSWORD}`,
    '-p',
    '127.0.0.1::5432',
    '-v',
    `${NAME}-data:/var/lib/postgresql/data`,
    '-v',
    `${NAME}-archive:/var/lib/postgresql/archive`,
    '--entrypoint',
    'bash',
    pg,
    '-c',
    'chown postgres:postgres /var/lib/postgresql/archive && exec docker-entrypoint.sh "$@"',
    'db',
    'postgres',
    '-c',
    'archive_mode=on',
    '-c',
    'archive_timeout=60',
    '-c',
    'archive_command=test ! -f /var/lib/postgresql/archive/%f && cp %p /var/lib/postgresql/archive/%f',
  );
  try {
    const port = docker('port', NAME, '5432/tcp').split('\n')[0]!.split(':').at(-1)!;
    const db = createDb(`postgresql://bank:${PASSWORD}@127.0.0.1:${port}/bankdb`);
    try {
      await migrateDatabase(db, logger, { attempts: 60, initialDelayMs: 500, maxDelayMs: 2000 });
      await seedDatabase(db, async () => 'bench-not-a-real-hash', logger);
      const [alice, bob] = (await db('accounts')
        .join('users', 'users.id', 'accounts.user_id')
        .whereIn('users.username', ['alice', 'bob'])
        .andWhere('accounts.kind', 'primary')
        .orderBy('users.username')
        .select('accounts.id', 'accounts.user_id')) as Array<{ id: number; user_id: number }>;
      if (!alice || !bob) throw new Error('the demo users alice and bob are missing');
      const started = Date.now();
      // One cent back and forth: nobody overdraws, every row goes through the posting trigger. In
      // batches of 1,000 (one transaction each): updating the same two balance rows 100,000 times
      // in one transaction would make every update walk an ever longer chain of row versions.
      for (let from = 1; from <= TRANSFERS; from += 1000) {
        await db.raw(
          `insert into transfers (reference, kind, initiated_by, idempotency_key, request_hash, status,
             from_account_id, to_account_id, amount, currency, label, created_at, posted_by)
           select 'BENCH-' || i, 'transfer', case when i % 2 = 0 then ?::int else ?::int end, 'bench-' || i, 'bench',
             'succeeded', case when i % 2 = 0 then ?::int else ?::int end, case when i % 2 = 0 then ?::int else ?::int end,
             1, 'EUR', 'bench', now(), 'database'
           from generate_series(?::int, ?::int) as i order by i`,
          [alice.user_id, bob.user_id, alice.id, bob.id, bob.id, alice.id, from, Math.min(from + 999, TRANSFERS)],
        );
      }
      const size = await db.raw(`select pg_size_pretty(pg_database_size(current_database())) as size`);
      console.log(
        `  data: ${TRANSFERS} transfers, ${2 * TRANSFERS} journal lines posted in ${((Date.now() - started) / 1000).toFixed(1)} s; database ${size.rows[0].size}`,
      );
    } finally {
      await db.destroy();
    }

    const env = { BANK_STATE_DIR: state };
    const backup = timed('db-backup.sh', ['prod'], env);
    const bytes = /\((\d+) bytes/.exec(backup.log)?.[1];
    console.log(`  backup:  ${backup.seconds.toFixed(1)} s, ${(Number(bytes) / 1e6).toFixed(1)} MB (tar.gz)`);
    const restore = timed('db-restore.sh', ['prod', 'latest'], env);
    const phase = (re: RegExp) => re.exec(restore.log)?.[1] ?? '?';
    console.log(
      `  restore: ${restore.seconds.toFixed(1)} s in all (unpack ${phase(/unpacked .* in ([\d.]+) s/)} s, ` +
        `recovery ${phase(/recovered and promoted in ([\d.]+) s/)} s, switch ${phase(/switched in ([\d.]+) s/)} s)`,
    );
    console.log(`  ${restore.log.split('\n').find((l) => l.includes('ledger checks')) ?? ''}`);
  } finally {
    spawnSync('docker', ['rm', '-f', NAME], { stdio: 'ignore' });
    spawnSync('docker', ['volume', 'rm', `${NAME}-data`, `${NAME}-archive`], { stdio: 'ignore' });
    rmSync(state, { recursive: true, force: true });
  }
}

await main();
