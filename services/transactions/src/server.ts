import '#shared/threadpool.js';
import { startAuditSealer } from '#shared/audit.js';
import { createDb } from '#shared/db.js';
import { handleShutdownSignals, listen } from '#shared/http-server.js';
import { runMain } from '#shared/main.js';
import { createApp } from './app.js';
import { loadTransactionsConfig } from './config.js';
import { startHousekeeping } from './housekeeping.js';

await runMain('transactions', loadTransactionsConfig, async (config, logger) => {
  // No migration here: the migrate job owns the schema; /ready says whether it is current.
  const db = createDb(config.databaseUrl);
  const running = await listen(createApp({ config, db, logger }), config, logger);
  const housekeeping = startHousekeeping(db, logger, {
    intervalMs: config.purgeIntervalS * 1000,
    retentionDays: config.refusedTransferRetentionDays,
  });
  const sealer = startAuditSealer(db, logger);
  logger.info({ port: config.port, color: config.appColor }, 'transactions service listening');
  handleShutdownSignals(logger, async () => {
    await running.close();
    await housekeeping.stop();
    await sealer.stop();
    await db.destroy();
  });
});
