import '#shared/threadpool.js';
import { startAuditSealer } from '#shared/audit.js';
import { createDb } from '#shared/db.js';
import { handleShutdownSignals, listen } from '#shared/http-server.js';
import { runMain } from '#shared/main.js';
import { createApp } from './app.js';
import { loadWebConfig } from './config.js';
import { startHousekeeping } from './housekeeping.js';

await runMain('web', loadWebConfig, async (config, logger) => {
  // No migration and no seed here: the migrate job owns both; /ready says whether the schema is current.
  const db = createDb(config.databaseUrl);
  const running = await listen(createApp({ config, db, logger }), config, logger);
  const housekeeping = startHousekeeping(db, logger, config.purgeIntervalS * 1000);
  const sealer = startAuditSealer(db, logger);
  logger.info({ port: config.port, color: config.appColor }, 'web service listening');
  handleShutdownSignals(logger, async () => {
    await running.close();
    await housekeeping.stop();
    await sealer.stop();
    await db.destroy();
  });
});
