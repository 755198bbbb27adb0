import { expect } from 'chai';
import request from 'supertest';
import { createDb, type Knex } from '#shared/db.js';
import {
  csrfFrom,
  newKey,
  signedClient,
  startStack,
  submitLogin,
  type SignedClient,
  type Stack,
} from '../../helpers/fixtures.js';
import { startOwnPostgres } from '../../helpers/postgres.js';

/**
 * With the database stopped, the services say they are not ready and pages answer a friendly
 * 503; once it is back they recover by themselves, without a restart. Under load, every request
 * that meets the outage — page, internal API call, money movement — is a 503 with Retry-After.
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

  it('answers only 503s with Retry-After from both services while PostgreSQL is stopped under load', async () => {
    const web = request.agent(stack.web.callback());
    expect((await submitLogin(web, 'alice', 'password123')).status).to.equal(302);
    const alice = await db('users').where({ username: 'alice' }).first<{ id: number }>('id');
    const from = await db('accounts').where({ user_id: alice.id, kind: 'primary' }).first<{ number: string }>('number');
    const api: SignedClient = await signedClient(stack.transactions);
    const seen = new Map<string, number>();
    const missingRetryAfter: string[] = [];
    let phase: 'up' | 'down' | 'back' = 'up';
    let running = true;

    const calls: Array<[string, () => request.Test]> = [
      ['web GET /dashboard', () => web.get('/dashboard')],
      ['web GET /login', () => request(stack.web.callback()).get('/login')],
      ['api GET /api/accounts', () => api.get('/api/accounts', alice.id)],
      ['api GET /api/history', () => api.get('/api/history?pageSize=5', alice.id)],
      [
        'api POST /api/transfers',
        () =>
          api.post('/api/transfers', alice.id, {
            idempotencyKey: newKey(),
            fromAccount: from.number,
            to: 'bob',
            amount: '0.01',
          }),
      ],
    ];
    async function worker(name: string, call: () => request.Test) {
      while (running) {
        const res = await call();
        const key = `${phase} ${name} ${res.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (res.status === 503 && res.headers['retry-after'] !== '5') missingRetryAfter.push(key);
      }
    }
    const workers = calls.flatMap(([name, call]) => [worker(name, call), worker(name, call)]);

    await new Promise((r) => setTimeout(r, 500));
    phase = 'down';
    await pg.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    await pg.restart();
    phase = 'back';
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      recovered = (await request(stack.web.callback()).get('/ready')).status === 200;
    }
    running = false;
    await Promise.all(workers);
    await api.close();

    const figures = Object.fromEntries([...seen].sort());
    const failures = [...seen.keys()].filter((k) => /\s5\d\d$/.test(k) && !k.endsWith(' 503'));
    expect(failures, JSON.stringify(figures)).to.deep.equal([]);
    expect(missingRetryAfter, 'every 503 carries Retry-After').to.deep.equal([]);
    const downWeb = [...seen].filter(([k]) => k.startsWith('down web') && k.endsWith(' 503'));
    const downApi = [...seen].filter(([k]) => k.startsWith('down api') && k.endsWith(' 503'));
    expect(downWeb.length, 'the web service said 503 during the outage').to.be.greaterThan(0);
    expect(downApi.length, 'the transactions service said 503 during the outage').to.be.greaterThan(0);
    expect(recovered, 'ready again after the restart').to.equal(true);
    await web.get('/dashboard').expect(200);
    const after = await signedClient(stack.transactions);
    await after.get('/api/accounts', alice.id).expect(200);
    await after.close();
  });
});
