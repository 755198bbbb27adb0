/**
 * The one-shot database job: `node dist/services/jobs/src/cli.js migrate [seed]` (containers:
 * the compose `migrate` service, the PROD deploy before a colour starts), `npm run db:migrate`,
 * `npm run db:seed`, and `npm start` before the services. Neither service imports this module.
 */
import '#shared/threadpool.js';
import { readFileSync } from 'node:fs';
import { loadBaseConfig, ConfigError, type BaseConfig, type Env } from '#shared/config.js';
import { createDb } from '#shared/db.js';
import { runMain } from '#shared/main.js';
import { readScryptParams, type ScryptParams } from '#web/config.js';
import { createPasswordHasher } from '#web/auth/passwords.js';
import { migrateDatabase } from './migrate.js';
import {
  DEMO_CUSTOMER_MODES,
  ProdUsersError,
  refusePublicDemoCustomers,
  seedProdUsers,
  type DemoCustomers,
} from './prod-users.js';
import { SchemaNotMigratedError, seedDatabase } from './seed.js';

const STEPS = ['migrate', 'seed'] as const;
type Step = (typeof STEPS)[number];

interface JobConfig extends BaseConfig {
  steps: Step[];
  /** The demo users' password hash cost: the web service's. */
  scrypt: ScryptParams;
  /**
   * PROD (SEED_ADMIN_PASSWORD=stdin, set by the PROD compose file): `admin` gets the password the
   * deploy writes on stdin, and SEED_DEMO_CUSTOMERS (yes, no, lock) says what happens to the demo
   * customers (services/jobs/src/prod-users.ts). Unset: the demo seed of dev, CI and UAT.
   */
  prodUsers?: { demoCustomers: DemoCustomers };
}

function readProdUsers(env: Env): JobConfig['prodUsers'] {
  const source = env.SEED_ADMIN_PASSWORD;
  if (source === undefined || source === '') return undefined;
  if (source !== 'stdin') throw new ConfigError('SEED_ADMIN_PASSWORD', `must be "stdin" when set, got "${source}"`);
  const demo = env.SEED_DEMO_CUSTOMERS ?? 'no';
  if (!(DEMO_CUSTOMER_MODES as readonly string[]).includes(demo)) {
    throw new ConfigError('SEED_DEMO_CUSTOMERS', `must be one of ${DEMO_CUSTOMER_MODES.join(', ')}, got "${demo}"`);
  }
  return { demoCustomers: demo as DemoCustomers };
}

/** The deploy's line on stdin; nothing when stdin is a terminal (a job run by hand). */
function readStdin(): string | undefined {
  return process.stdin.isTTY ? undefined : readFileSync(0, 'utf8');
}

function loadJobConfig(env: Env, version: string): JobConfig {
  const steps = process.argv.slice(2);
  if (steps.length === 0 || steps.some((s) => !(STEPS as readonly string[]).includes(s))) {
    throw new ConfigError('arguments', `must be one or more of ${STEPS.join(', ')}, got "${steps.join(' ')}"`);
  }
  return {
    ...loadBaseConfig('jobs', env, version),
    steps: steps as Step[],
    scrypt: readScryptParams(env),
    prodUsers: readProdUsers(env),
  };
}

await runMain('jobs', loadJobConfig, async (config, logger) => {
  const db = createDb(config.databaseUrl);
  const hasher = createPasswordHasher(config.scrypt, { concurrency: 1, maxQueue: 1, maxWaitMs: 60_000 });
  const prod = config.prodUsers;
  try {
    // Before any change: a database that this deploy must not publish stops the job here.
    if (prod?.demoCustomers === 'no' && config.steps.includes('seed')) await refusePublicDemoCustomers(db, hasher);
    if (config.steps.includes('migrate')) await migrateDatabase(db, logger);
    if (config.steps.includes('seed')) {
      if (prod)
        await seedProdUsers(db, hasher, logger, { demoCustomers: prod.demoCustomers, readAdminPassword: readStdin });
      else await seedDatabase(db, (password) => hasher.hash(password), logger);
    }
  } catch (err) {
    // One line an operator reads in the deploy's output, not a stack.
    if (err instanceof SchemaNotMigratedError) console.error(`[jobs] ${err.message}`);
    else if (err instanceof ProdUsersError) console.error(`[jobs] refused: ${err.message}`);
    else throw err;
    process.exitCode = 1;
  } finally {
    await db.destroy();
  }
});
