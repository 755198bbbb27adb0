import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { signatureHeaders } from '#shared/signing.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { fund, makeUser, migrate, transactionsApp } from '../../helpers/fixtures.js';
import { parseMetrics, valueOf } from '../../helpers/prometheus.js';
import { loadTransactionsConfig } from '#transactions/config.js';

/** GET /metrics of the transactions service: HTTP by route, money movements by outcome, the pool. */
describeEachDatabase('transactions /metrics', ({ db }) => {
  it('counts transfers by outcome and requests by route pattern', async () => {
    await migrate(db());
    const app = transactionsApp(db()).callback();
    const key = loadTransactionsConfig({ NODE_ENV: 'test' }).signing;
    const admin = await makeUser(db(), 'admin', true);
    const payer = await makeUser(db(), 'payer');
    const payee = await makeUser(db(), 'payee');
    await fund(db(), admin, payer.primary, '10.00');
    const scrape = async () => parseMetrics((await request(app).get('/metrics').expect(200)).text);
    const transfer = (amount: string) => {
      const body = JSON.stringify({
        idempotencyKey: randomUUID(),
        fromAccount: payer.primary,
        to: payee.primary,
        amount,
      });
      const path = '/api/transfers';
      return request(app)
        .post(path)
        .set({
          'content-type': 'application/json',
          ...signatureHeaders(key, { method: 'POST', path, body, actingUserId: String(payer.id) }),
        })
        .send(body);
    };

    const before = await scrape();
    expect((await transfer('1.00')).status).to.equal(201);
    expect((await transfer('1000.00')).status).to.equal(422);
    const after = await scrape();

    const moved = (m: typeof after, outcome: string, code: string) =>
      valueOf(m, 'money_movements_total', { kind: 'transfer', outcome, code });
    expect(moved(after, 'succeeded', '') - moved(before, 'succeeded', '')).to.equal(1);
    expect(moved(after, 'refused', 'insufficient_funds') - moved(before, 'refused', 'insufficient_funds')).to.equal(1);
    const requests = (m: typeof after, status: string) =>
      valueOf(m, 'http_requests_total', { route: '/api/transfers', status });
    expect(requests(after, '201') - requests(before, '201')).to.equal(1);
    expect(requests(after, '422') - requests(before, '422')).to.equal(1);
    const timed = (m: typeof after) => valueOf(m, 'http_request_duration_seconds_count', { route: '/api/transfers' });
    expect(timed(after) - timed(before)).to.be.greaterThan(0);
    expect(after.types.get('db_pool_connections_idle')).to.equal('gauge');
    expect(after.samples.find((s) => s.name === 'http_requests_total')?.labels.service).to.equal('transactions');
  });
});
