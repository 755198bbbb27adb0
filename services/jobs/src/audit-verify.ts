/**
 * `npm run audit:verify`: walks the audit chain of DATABASE_URL (shared/src/audit-verify.ts).
 * Exit 0: the chain is whole; 1: it is broken (the first break is named); 2: the database has no
 * audit table (a schema from before the audit trail, or the wrong database).
 */
import { verifyAuditChain } from '#shared/audit-verify.js';
import { loadBaseConfig } from '#shared/config.js';
import { createDb } from '#shared/db.js';
import { runMain } from '#shared/main.js';

await runMain(
  'jobs',
  (env, version) => loadBaseConfig('jobs', env, version),
  async (config) => {
    const db = createDb(config.databaseUrl);
    let code: number;
    try {
      const check = await verifyAuditChain(db);
      if ('missing' in check) {
        console.error('audit:verify: no audit_events table in this database (run npm run db:migrate first)');
        code = 2;
      } else if (check.ok) {
        const waiting =
          check.unsealed > 0
            ? ` (and ${check.unsealed} newer not sealed yet: the services chain them within a second)`
            : '';
        console.log(`audit:verify: chain intact, ${check.rows} events${waiting}`);
        code = 0;
      } else {
        console.error(`audit:verify: chain broken after ${check.rows} good events at ${check.brokenAt}`);
        code = 1;
      }
    } finally {
      await db.destroy();
    }
    process.exitCode = code;
  },
);
