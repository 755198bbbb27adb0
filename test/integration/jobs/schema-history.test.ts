import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { ALL_MIGRATIONS, migrateDatabase } from '#jobs/migrate.js';
import { createDb } from '#shared/db.js';
import { migrationSource } from '#shared/migrations/runner.js';
import { DB_KINDS, freshDatabase, type DbKind } from '../../helpers/databases.js';
import { silentLogger } from '../../helpers/fixtures.js';
import { MANIFEST_PATH, type ReleaseManifest } from '../../helpers/released-migrations.js';
import { diffSchemas, schemaDump } from '../../helpers/schema-dump.js';

const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as ReleaseManifest;
const quick = { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 };

/**
 * A database created by this release and one created by an earlier release then upgraded by this
 * one's migrate job must end up with the same schema, or code tested on one breaks on the other.
 * Each earlier release's database is built with exactly the migrations released.json says it had,
 * taken from today's files: the checksum test (test/unit/migrations-released.test.ts) holds those
 * files byte for byte what that release ran, so this is that release's schema.
 */
async function withDatabase<T>(kind: DbKind, use: (db: Knex) => Promise<T>): Promise<T> {
  const fresh = await freshDatabase(kind);
  const db = createDb(fresh.url);
  try {
    return await use(db);
  } finally {
    await db.destroy();
    fresh.cleanup();
  }
}

for (const kind of DB_KINDS) {
  describe(`a fresh schema and an upgraded one are the same [${kind}]`, function () {
    this.timeout(120_000);
    let fresh: string[] = [];

    before(async () => {
      fresh = await withDatabase(kind, async (db) => {
        await migrateDatabase(db, silentLogger, quick);
        return schemaDump(db);
      });
    });

    for (const release of manifest.releases) {
      it(`from release ${release.commit.slice(0, 7)} (${release.landed}), upgraded by this release's migrate job`, async () => {
        const upgraded = await withDatabase(kind, async (db) => {
          const released = new Set(release.migrations);
          const list = ALL_MIGRATIONS.filter(([name]) => released.has(name));
          expect(
            list.map(([name]) => name),
            'the release’s migrations',
          ).to.deep.equal(release.migrations);
          await db.migrate.latest({ migrationSource: migrationSource(list) });
          await migrateDatabase(db, silentLogger, quick);
          return schemaDump(db);
        });
        const differences = diffSchemas(fresh, upgraded);
        expect(differences, `fresh (-) vs upgraded (+):\n${differences.join('\n')}\n`).to.deep.equal([]);
      });
    }
  });
}
