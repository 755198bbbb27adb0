import type { Knex } from 'knex';
import * as initialSchema from './20261124000100_initial_schema.js';
import * as passwordHash255 from './20261124000200_password_hash_255.js';
import * as accountsTransfersJournal from './20261124000300_accounts_transfers_journal.js';
import * as usersBalanceFollowsPrimary from './20261124000310_users_balance_follows_primary.js';
import * as transfersPostThemselves from './20261124000320_transfers_post_themselves.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Migrations listed explicitly, in order. An explicit list works the same from TypeScript
 * sources (tests) and compiled JavaScript (containers), where a directory scan would need to
 * know the file extension.
 */
const migrations: ReadonlyArray<readonly [string, Migration]> = [
  ['20261124000100_initial_schema', initialSchema],
  ['20261124000200_password_hash_255', passwordHash255],
  ['20261124000300_accounts_transfers_journal', accountsTransfersJournal],
  ['20261124000310_users_balance_follows_primary', usersBalanceFollowsPrimary],
  ['20261124000320_transfers_post_themselves', transfersPostThemselves],
];

export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: () => Promise.resolve([...migrations]),
  getMigrationName: ([name]) => name,
  getMigration: ([, migration]) => Promise.resolve(migration),
};
