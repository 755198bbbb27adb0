/**
 * The one-shot database job: `node dist/services/jobs/src/cli.js migrate [seed]` (containers:
 * the compose `migrate` service, the PROD deploy before a colour starts), `npm run db:migrate`,
 * `npm run db:seed`, and `npm start` before the services. Neither service imports this module.
 */
import '#shared/threadpool.js';
import { loadBaseConfig, ConfigError, type BaseConfig, type Env } from '#shared/config.js';
import { createDb } from '#shared/db.js';
import { runMain } from '#shared/main.js';
import { readScryptParams, type ScryptParams } from '#web/config.js';
import { createPasswordHasher } from '#web/auth/passwords.js';
import { migrateDatabase } from './migrate.js';
import { seedDatabase } from './seed.js';

const STEPS = ['migrate', 'seed'] as const;
type Step = (typeof STEPS)[number];

interface JobConfig extends BaseConfig {
  steps: Step[];
  /** The demo users' password hash cost: the web service's. */
  scrypt: ScryptParams;
}

function loadJobConfig(env: Env, version: string): JobConfig {
  const steps = process.argv.slice(2);
  if (steps.length === 0 || steps.some((s) => !(STEPS as readonly string[]).includes(s))) {
    throw new ConfigError('arguments', `must be one or more of ${STEPS.join(', ')}, got "${steps.join(' ')}"`);
  }
  return { ...loadBaseConfig('jobs', env, version), steps: steps as Step[], scrypt: readScryptParams(env) };
}

await runMain('jobs', loadJobConfig, async (config, logger) => {
  const db = createDb(config.databaseUrl);
  try {
    if (config.steps.includes('migrate')) await migrateDatabase(db, logger);
    if (config.steps.includes('seed')) {
      const hasher = createPasswordHasher(config.scrypt, { concurrency: 1, maxQueue: 1, maxWaitMs: 60_000 });
      await seedDatabase(db, (password) => hasher.hash(password), logger);
    }
  } finally {
    await db.destroy();
  }
});
