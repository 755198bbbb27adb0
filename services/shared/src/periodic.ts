/** A background job of a service: `stop` ends it during graceful shutdown. */
export interface PeriodicJob {
  stop(): Promise<void>;
}

/**
 * Runs `round` every `intervalMs`, one round at a time (a slow round delays the next rather than
 * overlapping it). The timer does not keep the process alive; `stop` (graceful shutdown) waits for
 * a round under way, then runs `finalRound` once when given. `round` handles its own errors: a
 * database away for a while is the next round's business.
 */
export function startPeriodic(
  intervalMs: number,
  round: () => Promise<void>,
  finalRound?: () => Promise<void>,
): PeriodicJob {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(function periodicRound() {
    running = running.then(round);
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      if (finalRound) running = running.then(finalRound);
      await running;
    },
  };
}
