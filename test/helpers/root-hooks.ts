import { stopPostgres } from './postgres.js';

// Coverage is this process's only. Mocha loads the TypeScript through tsx's CommonJS hook, while a
// child a test spawns (`node --import tsx services/jobs/src/cli.ts`) compiles the same files as ES
// modules: c8 would merge the two processes' counts by byte offset over two different outputs, and
// showed lines every transfer runs as never run. Children still run; they just report nothing.
delete process.env.NODE_V8_COVERAGE;

/**
 * A timeout per tier, by the test file's directory: unit tests touch no I/O and must be quick;
 * integration and script tests start real servers and databases. A suite or test that sets its
 * own timeout keeps it (only the configured default is replaced).
 */
const TIER_TIMEOUT_MS: Record<string, number> = { unit: 2_000, scripts: 20_000, integration: 30_000 };

function tierOf(file: string | undefined): string | undefined {
  return /[/\\]test[/\\](unit|scripts|integration)[/\\]/.exec(file ?? '')?.[1];
}

/** Mocha root hooks: the tier timeouts, and the shared PostgreSQL server stopped once every suite has run. */
export const mochaHooks = {
  beforeEach(this: Mocha.Context) {
    const test = this.currentTest;
    const tier = tierOf(test?.file);
    const configured = this.test?.parent?.timeout();
    if (test && tier && test.timeout() === configured) test.timeout(TIER_TIMEOUT_MS[tier] ?? configured);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopPostgres();
  },
};
