import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { ALL_MIGRATIONS, migrateDatabase } from '#jobs/migrate.js';
import { createDb } from '#shared/db.js';
import { migrationSource, type MigrationList } from '#shared/migrations/runner.js';
import { DB_KINDS, freshDatabase, type DbKind } from '../../helpers/databases.js';
import { silentLogger } from '../../helpers/fixtures.js';
import { MANIFEST_PATH, type ReleaseManifest } from '../../helpers/released-migrations.js';
import { diffSchemas, schemaDump } from '../../helpers/schema-dump.js';
import * as moneyRuleAsShipped from '../../fixtures/release-37b9c87/migrations/20261201000100_money_rule_in_one_module.js';

const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as ReleaseManifest;
const quick = { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 };

/**
 * The releases on main from 1 Dec 23:01 to 2 Dec 03:41 (the last one: 37b9c87) ran these
 * migrations, and their 20261201000100 installed the money rule of the rules.ts of the time; that
 * migration was edited afterwards (b54e0f5), before shipped migrations were checksummed. Its file
 * and that rules.ts as shipped are kept in test/fixtures/release-37b9c87, so this is the real
 * upgrade path from those releases. The other files they ran are today's: unchanged since, but for
 * additions to db.ts and contract/usernames.ts that leave `dbClient` and `usernameKey` as they were.
 */
const RELEASE_37B9C87 = [
  '20261124000100_initial_schema',
  '20261124000200_password_hash_255',
  '20261124000300_accounts_transfers_journal',
  '20261124000310_users_balance_follows_primary',
  '20261124000320_transfers_post_themselves',
  '20261201000100_money_rule_in_one_module',
  '20261202000100_username_key',
  '20261202000110_login_throttle',
  '20261202000200_account_opening_keys',
];
const releases: Array<{ title: string; list: MigrationList }> = [
  {
    title: 'release 37b9c87 (2026-12-02T03:41:01Z), its 20261201000100 as shipped',
    list: ALL_MIGRATIONS.filter(([name]) => RELEASE_37B9C87.includes(name)).map(([name, migration]) =>
      name === '20261201000100_money_rule_in_one_module' ? [name, moneyRuleAsShipped] : [name, migration],
    ),
  },
  ...manifest.releases.map((release) => {
    const released = new Set(release.migrations);
    return {
      title: `release ${release.commit.slice(0, 7)} (${release.landed})`,
      list: ALL_MIGRATIONS.filter(([name]) => released.has(name)),
    };
  }),
];

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

    for (const { title, list } of releases) {
      it(`from ${title}, upgraded by this release's migrate job`, async () => {
        const upgraded = await withDatabase(kind, async (db) => {
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
