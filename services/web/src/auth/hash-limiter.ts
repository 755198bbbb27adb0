import { serviceUnavailable } from '#shared/errors.js';

/**
 * Runs at most `concurrency` tasks at once; later ones wait in a bounded FIFO queue for at most
 * `maxWaitMs`. A full queue or an expired wait rejects with 503 (`busy`) instead of letting work
 * pile up: CPU-bound password hashing must never starve the rest of the site.
 */
export class Limiter {
  private running = 0;
  private readonly queue: Array<{ start: () => void; timer: NodeJS.Timeout }> = [];
  /** Told how long each task waited for its turn (0 when it started at once): the metrics hook. */
  onStart: ((waitedMs: number) => void) | undefined;

  constructor(
    private readonly concurrency: number,
    private readonly maxQueue: number,
    private readonly maxWaitMs: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running += 1;
      this.onStart?.(0);
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) return Promise.reject(busy());
    const queuedAt = performance.now();
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          clearTimeout(entry.timer);
          this.onStart?.(performance.now() - queuedAt);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(entry);
          if (index >= 0) this.queue.splice(index, 1);
          reject(busy());
        }, this.maxWaitMs),
      };
      this.queue.push(entry);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.running -= 1;
  }
}

function busy() {
  return serviceUnavailable('busy', 'Le service est momentanément surchargé. Réessayez dans quelques secondes.');
}
