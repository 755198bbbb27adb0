import { Counter } from 'prom-client';
import type { Metrics } from '#shared/metrics.js';

export type MovementCounter = Counter<'kind' | 'outcome' | 'code'>;

/**
 * Money movements answered, by kind (transfer, deposit), outcome (succeeded, refused, replayed,
 * key_reused) and refusal code (`insufficient_funds`…, empty when not refused): a bounded set.
 */
export function movementMetrics({ registry }: Metrics): MovementCounter {
  return new Counter({
    name: 'money_movements_total',
    help: 'Transfers and deposits answered, by kind, outcome and refusal code.',
    labelNames: ['kind', 'outcome', 'code'] as const,
    registers: [registry],
  });
}
