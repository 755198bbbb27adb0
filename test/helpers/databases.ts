import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { createDb } from '#shared/db.js';
import { createPostgresDatabase } from './postgres.js';

export type DbKind = 'SQLite' | 'PostgreSQL';
export const DB_KINDS: readonly DbKind[] = ['SQLite', 'PostgreSQL'];

/** A fresh, empty, real database of the given kind, and how to throw it away. */
export async function freshDatabase(kind: DbKind): Promise<{ url: string; cleanup: () => void }> {
  if (kind === 'PostgreSQL') return { url: await createPostgresDatabase(), cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'fintech-sqlite-'));
  return { url: `sqlite:///${join(dir, 'test.db')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Declares the same suite once per database kind. `setup` gets a fresh database before the suite
 * and the Knex instance is destroyed after it.
 */
export function describeEachDatabase(
  title: string,
  body: (ctx: { kind: DbKind; db: () => Knex; url: () => string }) => void,
): void {
  for (const kind of DB_KINDS) {
    describe(`${title} [${kind}]`, function () {
      this.timeout(60_000);
      let db: Knex | undefined;
      let url = '';
      let cleanup = () => {};
      before(async () => {
        const fresh = await freshDatabase(kind);
        url = fresh.url;
        cleanup = fresh.cleanup;
        db = createDb(url);
      });
      after(async () => {
        await db?.destroy();
        cleanup();
      });
      body({
        kind,
        db: () => {
          if (!db) throw new Error('database not ready');
          return db;
        },
        url: () => url,
      });
    });
  }
}
