import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type Koa from 'koa';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';

export interface RunningServer {
  server: Server;
  close(): Promise<void>;
}

/**
 * Listens with keep-alive longer than the gateway's upstream keep-alive (otherwise the server may
 * close a connection nginx is about to reuse: random 502s), and stops gracefully: no new
 * connections, in-flight requests finish, idle keep-alive sockets close, then `onClosed` runs.
 */
export async function listen(app: Koa, config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const server = createServer(app.callback());
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.headersTimeout = config.keepAliveTimeoutMs + 5_000;
  server.requestTimeout = 60_000;

  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive sockets would hold close() open until they time out.
      server.closeIdleConnections();
      const force = setTimeout(() => {
        logger.warn({ open: sockets.size }, 'shutdown timeout reached, closing remaining connections');
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      force.unref();
    });
    return closing;
  };
  return { server, close };
}

/** Wires SIGTERM/SIGINT to a graceful stop, then exits 0 (1 if stopping itself failed). */
export function handleShutdownSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down gracefully');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
