// One owner per table (docs/ARCHITECTURE.md §2). The lint rule `table-ownership/no-foreign-table`
// reads this map, and test/unit/lint/table-owners.test.ts checks it against the document and against
// every table or view the migrations create. Plain JavaScript so that eslint.config.js can load it.
//
// - owner: the service whose code may name the table ('shared' = services/shared/src only).
// - readers: other services that may read it (only a view the owner defines for them).
// - instead: what the other service uses, shown in the lint message.

export const TABLE_OWNERS = Object.freeze({
  users: { owner: 'web', instead: 'read it through the `account_holders` view' },
  account_holders: { owner: 'web', readers: ['transactions'] },
  sessions: { owner: 'web' },
  login_throttle: { owner: 'web' },
  rate_limits: { owner: 'web' },
  username_renames: { owner: 'web' },
  username_reviews: { owner: 'web' },
  accounts: { owner: 'transactions', instead: 'ask the transactions service through its signed API' },
  transfers: { owner: 'transactions', instead: 'ask the transactions service through its signed API' },
  transactions: { owner: 'transactions', instead: 'ask the transactions service through its signed API' },
  audit_events: { owner: 'shared', instead: 'use the functions of services/shared/src/audit.ts' },
  audit_chain: { owner: 'shared', instead: 'use the functions of services/shared/src/audit.ts' },
  knex_migrations: { owner: 'shared', instead: 'use services/shared/src/migrations/runner.ts' },
  knex_migrations_lock: { owner: 'shared', instead: 'use services/shared/src/migrations/runner.ts' },
});

/** Tables Knex creates itself (no migration of ours names them). */
export const KNEX_TABLES = Object.freeze(['knex_migrations', 'knex_migrations_lock']);
