import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import request from 'supertest';
import { DEV_SIGNING_SECRET } from '../../services/shared/src/config.js';
import { signatureHeaders, type SigningKey } from '../../services/shared/src/signing.js';

/** The key the services use when SERVICE_SIGNING_* are not set (development and tests). */
export const TEST_SIGNING_KEY: SigningKey = { keyId: 'k1', secret: DEV_SIGNING_SECRET };

export interface SignedClient {
  server: Server;
  get(path: string, actingUserId: number | string): request.Test;
  post(path: string, actingUserId: number | string, body: unknown): request.Test;
  close(): Promise<void>;
}

/**
 * Calls an app the way the web service does: every request signed with HMAC over method, path
 * (with query), time, body and acting user. One listening server is reused for all requests, so
 * hundreds of concurrent calls do not open hundreds of ephemeral servers.
 */
export async function signedClient(app: Koa, key: SigningKey = TEST_SIGNING_KEY): Promise<SignedClient> {
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return {
    server,
    get(path, actingUserId) {
      return agent
        .get(path)
        .set(signatureHeaders(key, { method: 'GET', path, body: '', actingUserId: String(actingUserId) }));
    },
    post(path, actingUserId, body) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return agent
        .post(path)
        .set(signatureHeaders(key, { method: 'POST', path, body: text, actingUserId: String(actingUserId) }))
        .set('Content-Type', 'application/json')
        .send(text);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
