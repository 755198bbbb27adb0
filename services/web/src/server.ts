import { createDb } from '../../shared/src/db.js';
import { handleShutdownSignals, listen } from '../../shared/src/http-server.js';
import { runMain } from '../../shared/src/main.js';
import { seedIfEmpty } from '../../shared/src/seed.js';
import { migrateWithRetry } from '../../shared/src/startup.js';
import { createApp, createHasher } from './app.js';

await runMain('web', async (config, logger) => {
  const db = createDb(config.databaseUrl);
  await migrateWithRetry(db, logger);
  const hasher = createHasher(config);
  await seedIfEmpty(db, (password) => hasher.hash(password), logger);
  const running = await listen(createApp({ config, db, logger, hasher }), config, logger);
  logger.info({ port: config.port, color: config.appColor }, 'web service listening');
  handleShutdownSignals(logger, async () => {
    await running.close();
    await db.destroy();
  });
});
