import { createDb } from '../../shared/src/db.js';
import { handleShutdownSignals, listen } from '../../shared/src/http-server.js';
import { runMain } from '../../shared/src/main.js';
import { migrateWithRetry } from '../../shared/src/startup.js';
import { createApp } from './app.js';

await runMain('transactions', async (config, logger) => {
  const db = createDb(config.databaseUrl);
  await migrateWithRetry(db, logger);
  const running = await listen(createApp({ config, db, logger }), config, logger);
  logger.info({ port: config.port, color: config.appColor }, 'transactions service listening');
  handleShutdownSignals(logger, async () => {
    await running.close();
    await db.destroy();
  });
});
