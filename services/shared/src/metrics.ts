import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; from a static file (~1 ms) to a page waiting on a slow database (seconds). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route label of a request no router matched (static files, 404s): one value, not one per URL. */
export const UNMATCHED_ROUTE = '(none)';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
}

/**
 * One Prometheus registry per app (not prom-client's global one: tests run several apps in one
 * process), with the process metrics (CPU, memory, event loop lag, GC) and the HTTP metrics.
 * Services add their own metrics to `registry`.
 */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, matched route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, matched route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration };
}

/**
 * Counts and times every request. The route label is the router's matched pattern
 * (`/api/accounts`, `/transactions`), never the raw URL, so a scanner's random paths add no series.
 */
export function httpMetrics({ httpRequests, httpDuration }: Metrics): Koa.Middleware {
  return async function measureRequest(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const labels = {
        method: ctx.method,
        route: typeof route === 'string' ? route : UNMATCHED_ROUTE,
        status: String(ctx.status),
      };
      httpRequests.inc(labels);
      httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/** The Knex (tarn) pool: connections in use, idle, and requests waiting for one. */
export function poolMetrics({ registry }: Metrics, db: Knex): void {
  const pool = () => (db.client as { pool?: TarnPool }).pool;
  const gauges: Array<[string, string, (p: TarnPool) => number]> = [
    ['db_pool_connections_in_use', 'Database connections handed out by the pool.', (p) => p.numUsed()],
    ['db_pool_connections_idle', 'Open database connections waiting in the pool.', (p) => p.numFree()],
    ['db_pool_acquires_waiting', 'Queries waiting for a database connection.', (p) => p.numPendingAcquires()],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const current = pool();
        this.set(current ? read(current) : 0);
      },
    });
  }
}

/**
 * GET /metrics in Prometheus text format, on the service's own port, for scrapers on the internal
 * network. One rule, shared with the gateway (gateway/nginx.conf): the metrics answer only at
 * exactly `/metrics` (case-sensitive: no `/METRICS`, `/Metrics/`, `/metrics;x`), and only to a
 * direct request. Whatever the gateway relays carries X-Forwarded-For (it sets it on every
 * request), so a spelling the gateway's own check would miss still gets 404 here.
 */
export function metricsRoutes({ registry }: Metrics): Router {
  return new Router({ sensitive: true, strict: true }).get('/metrics', async function scrape(ctx) {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.get('X-Forwarded-For') !== '') {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = 'Not Found\n';
      return;
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
}
