import { pino, type Logger } from 'pino';
import { currentRequestId } from './request-context.js';

export type { Logger };

/**
 * One pino logger per process. The mixin adds the current request id to every line written
 * while a request is being handled, whichever module logs it.
 */
export function createLogger(service: string, level: string): Logger {
  return pino({
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
  });
}
