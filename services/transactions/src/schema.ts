import { SHARED_MIGRATIONS } from '#shared/migrations/index.js';
import { mergeMigrations, type MigrationList } from '#shared/migrations/runner.js';
import * as moneyRuleInOneModule from './migrations/20261201000100_money_rule_in_one_module.js';
import * as accountOpeningKeys from './migrations/20261202000200_account_opening_keys.js';
import * as accountIdentityFixed from './migrations/20261202000300_account_identity_fixed.js';
import * as refusedTransfersByAge from './migrations/20261205000300_refused_transfers_by_age.js';
import * as transfersAudited from './migrations/20261205000500_transfers_audited.js';

/**
 * The schema the transactions service needs: the shared tables, then its own migrations, which
 * install the money rule (ledger/rules.ts). The migrate job applies this list; the service only
 * checks that it has been applied.
 */
export const TRANSACTIONS_MIGRATIONS: MigrationList = mergeMigrations(SHARED_MIGRATIONS, [
  ['20261201000100_money_rule_in_one_module', moneyRuleInOneModule],
  ['20261202000200_account_opening_keys', accountOpeningKeys],
  ['20261202000300_account_identity_fixed', accountIdentityFixed],
  ['20261205000300_refused_transfers_by_age', refusedTransfersByAge],
  ['20261205000500_transfers_audited', transfersAudited],
]);
