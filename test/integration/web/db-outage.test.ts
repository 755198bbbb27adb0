import { expect } from 'chai';
import request from 'supertest';
import { createDb, type Knex } from '#shared/db.js';
import { csrfFrom, startStack, type Stack } from '../../helpers/fixtures.js';
import { startOwnPostgres } from '../../helpers/postgres.js';

/**
 * With the database stopped, the services say they are not ready and pages answer a friendly
 * 503; once it is back they recover by themselves, without a restart.
 */
describe('database outage and recovery [PostgreSQL]', function () {
  this.timeout(90_000);
  let pg: Awaited<ReturnType<typeof startOwnPostgres>>;
  let db: Knex;
  let stack: Stack;

  before(async () => {
    pg = await startOwnPostgres();
    db = createDb(pg.url);
    stack = await startStack(db, pg.url);
  });
  after(async () => {
    await stack?.close();
    await db?.destroy();
    await pg?.destroy();
  });

  it('reports 503 from /ready and a friendly page while the DB is down, then recovers', async () => {
    const web = stack.web.callback();
    await request(web).get('/ready').expect(200);
    await pg.stop();

    const ready = await request(web).get('/ready');
    expect(ready.status).to.equal(503);
    expect(ready.headers['retry-after']).to.equal('5');
    const health = await request(web).get('/health');
    expect(health.status, 'liveness does not depend on the DB').to.equal(200);
    // The login form needs no database (no session row for a visitor); submitting it does.
    const agent = request.agent(web);
    const form = await agent.get('/login').expect(200);
    const page = await agent
      .post('/login')
      .type('form')
      .send({ username: 'alice', password: 'password123', _csrf: csrfFrom(form.text) });
    expect(page.status).to.equal(503);
    expect(page.text).to.contain('base de données ne répond pas');
    const txReady = await request(stack.transactions.callback()).get('/ready');
    expect(txReady.status).to.equal(503);

    await pg.restart();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i += 1) {
      status = (await request(web).get('/ready')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).to.equal(200);
    await request(web).get('/login').expect(200);
    await request(stack.transactions.callback()).get('/ready').expect(200);
  });
});
