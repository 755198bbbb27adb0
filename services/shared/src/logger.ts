import { pino, type Logger } from 'pino';
import { currentRequestId } from './request-context.js';

export type { Logger };

/**
 * One pino logger per process. The mixin adds the current request id to every line written
 * while a request is being handled, whichever module logs it. Lines go to stdout asynchronously
 * (a synchronous write per access-log line blocks the event loop on a slow pipe); pino flushes
 * what is still buffered when the process exits, graceful shutdown included.
 */
export function createLogger(service: string, level: string): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      redact: {
        paths: ['password', '*.password', 'req.headers.cookie', 'headers.cookie', 'secret'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
