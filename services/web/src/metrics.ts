import { Gauge, Histogram } from 'prom-client';
import type { Metrics } from '#shared/metrics.js';
import type { PasswordHasher } from './auth/passwords.js';

/**
 * The web service's own metrics: the password-hash queue (scrypt is the one CPU-bound step; a
 * growing queue or wait is the first sign of a login storm, before the 503 `busy` answers).
 */
export function hashQueueMetrics({ registry }: Metrics, hasher: PasswordHasher): void {
  new Gauge({
    name: 'password_hash_queue_waiting',
    help: 'Password hashes waiting for their turn.',
    registers: [registry],
    collect() {
      this.set(hasher.queue.waiting);
    },
  });
  new Gauge({
    name: 'password_hash_running',
    help: 'Password hashes being computed.',
    registers: [registry],
    collect() {
      this.set(hasher.queue.active);
    },
  });
  const wait = new Histogram({
    name: 'password_hash_queue_wait_seconds',
    help: 'Time a password hash waited in the queue before it started.',
    buckets: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  hasher.queue.onStart = (waitedMs) => wait.observe(waitedMs / 1000);
}
