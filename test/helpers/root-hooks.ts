import { stopPostgres } from './postgres.js';

/** Mocha root hooks: stop the shared PostgreSQL server once every suite has run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopPostgres();
  },
};
