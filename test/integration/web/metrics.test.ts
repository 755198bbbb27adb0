import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import { startStack, submitLogin, type Stack } from '../../helpers/fixtures.js';
import { parseMetrics, valueOf } from '../../helpers/prometheus.js';

/** GET /metrics of the web service, scraped and parsed as Prometheus would. */
describeEachDatabase('web /metrics', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  async function scrape() {
    const res = await request(stack.web.callback()).get('/metrics').expect(200);
    expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(res.text);
  }

  it('counts and times requests by route pattern and status, never by raw URL', async () => {
    const before = await scrape();
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'alice', 'password123')).status).to.equal(302);
    await agent.get('/dashboard').expect(200);
    await agent.get('/transactions?page=2').expect(200);
    await agent.get('/no-such-page-a1b2c3').expect(404);
    const after = await scrape();

    const count = (m: typeof after, route: string, status: string) =>
      valueOf(m, 'http_requests_total', { method: 'GET', route, status });
    expect(count(after, '/dashboard', '200') - count(before, '/dashboard', '200')).to.equal(1);
    expect(count(after, '/transactions', '200') - count(before, '/transactions', '200')).to.equal(1);
    expect(count(after, '(none)', '404') - count(before, '(none)', '404')).to.equal(1);
    const routes = after.samples.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.route);
    expect(routes.some((r) => r?.includes('a1b2c3') || r?.includes('?'))).to.equal(false);

    expect(after.types.get('http_request_duration_seconds')).to.equal('histogram');
    const dashboard = { route: '/dashboard', status: '200' };
    const timed = (m: typeof after) => valueOf(m, 'http_request_duration_seconds_count', dashboard);
    expect(timed(after) - timed(before)).to.equal(1);
    expect(valueOf(after, 'http_request_duration_seconds_sum', dashboard)).to.be.greaterThan(0);
    expect(valueOf(after, 'http_request_duration_seconds_bucket', { ...dashboard, le: '+Inf' })).to.equal(timed(after));
  });

  it('shows the password-hash queue, the database pool and the process', async () => {
    const before = await scrape();
    const agent = request.agent(stack.web.callback());
    await submitLogin(agent, 'bob', 'password123');
    const after = await scrape();
    const waits = (m: typeof after) => valueOf(m, 'password_hash_queue_wait_seconds_count');
    expect(waits(after) - waits(before)).to.equal(1);
    expect(after.types.get('password_hash_queue_waiting')).to.equal('gauge');
    expect(valueOf(after, 'password_hash_queue_waiting')).to.equal(0);
    expect(after.types.get('db_pool_connections_in_use')).to.equal('gauge');
    expect(valueOf(after, 'db_pool_acquires_waiting')).to.equal(0);
    expect(valueOf(after, 'process_resident_memory_bytes')).to.be.greaterThan(0);
    expect(after.samples.find((s) => s.name === 'http_requests_total')?.labels.service).to.equal('web');
  });
});

/**
 * The one rule for /metrics (services/shared/src/metrics.ts, gateway/nginx.conf): exactly
 * `/metrics`, case-sensitive, and only for a request that no proxy relayed. Each spelling of the
 * issue, sent verbatim (no client-side normalisation), to both services.
 */
describeEachDatabase('/metrics spellings', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  const OTHER_SPELLINGS = [
    '/METRICS',
    '/Metrics/',
    '//metrics',
    '/./metrics',
    '/%6Detrics',
    '/metrics;x',
    '/metrics/../metrics',
  ];
  const ALL_SPELLINGS = ['/metrics', '/metrics?x', ...OTHER_SPELLINGS];

  for (const service of ['web', 'transactions'] as const) {
    const app = () => (service === 'web' ? stack.web : stack.transactions).callback();

    it(`${service}: answers only the exact path /metrics, whatever other spelling`, async () => {
      await request(app()).get('/metrics').expect(200);
      for (const pathname of OTHER_SPELLINGS) {
        const res = await request(app()).get(pathname);
        expect(res.status, pathname).to.equal(404);
        expect(res.text, pathname).to.not.contain('# TYPE');
      }
    });

    it(`${service}: answers 404 to every spelling relayed by a proxy (X-Forwarded-For)`, async () => {
      for (const pathname of ALL_SPELLINGS) {
        const res = await request(app()).get(pathname).set('X-Forwarded-For', '203.0.113.7');
        expect(res.status, pathname).to.equal(404);
        expect(res.text, pathname).to.not.contain('# TYPE');
      }
    });
  }
});
