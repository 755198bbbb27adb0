import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '#shared/logger.js';

/** The most a call waits, its one retry included. */
export const TIMEOUT_MS = 5_000;
/** Less time than this left after a failure: no retry, the call fails. */
const MIN_RETRY_MS = 100;
/**
 * A keep-alive socket is not reused once this old: web's connections move over to a transactions
 * replica that started (or restarted) after them, instead of staying on the others for ever.
 */
export const MAX_SOCKET_AGE_MS = 10_000;

export interface RawResponse {
  status: number;
  text: string;
}

/** A call that failed before a single byte of the answer came back (the service did not answer). */
class NoAnswer extends Error {
  constructor(
    readonly error: NodeJS.ErrnoException & { address?: string },
    /** The replica's address, when the connection got that far. */
    readonly address: string | undefined,
  ) {
    super(error.message);
  }
}

/** Keep-alive agent whose sockets retire after `maxSocketAgeMs` (counted from their first answer). */
function createAgent(https: boolean, maxSocketAgeMs: number): HttpAgent {
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const keepSocketAlive = agent.keepSocketAlive.bind(agent) as (socket: Duplex) => boolean;
  const firstFreed = new WeakMap<Duplex, number>();
  agent.keepSocketAlive = function keepYoungSocketAlive(socket: Duplex): boolean {
    const now = Date.now();
    const since = firstFreed.get(socket) ?? now;
    if (since === now) firstFreed.set(socket, now);
    return now - since < maxSocketAgeMs && keepSocketAlive(socket);
  };
  return agent;
}

/** Resolves the host to any of its addresses but `avoid` (the replica that just failed), if it has one. */
function lookupAvoiding(avoid: string): LookupFunction {
  return function lookupAnotherReplica(hostname, options, callback) {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '');
      const others = addresses.filter((a) => a.address !== avoid);
      const chosen = others.length > 0 ? others : addresses;
      if (options.all) return callback(null, chosen);
      return callback(null, chosen[0]?.address ?? '', chosen[0]?.family);
    });
  };
}

/** Where the request's socket is connected (known once it is), and how much it had read before. */
function watchSocket(req: ClientRequest) {
  const seen = { address: undefined as string | undefined, bytesBefore: 0, socket: undefined as Socket | undefined };
  req.on('socket', (socket: Socket) => {
    seen.socket = socket;
    seen.bytesBefore = socket.bytesRead;
    if (socket.remoteAddress) seen.address = socket.remoteAddress;
    else socket.once('connect', () => (seen.address = socket.remoteAddress));
  });
  return {
    address: () => seen.address,
    answered: () => (seen.socket?.bytesRead ?? 0) > seen.bytesBefore,
  };
}

/**
 * Node's http client over a keep-alive agent: every page makes a call, and a fresh TCP connection
 * (or fetch's stream machinery) per call costs more CPU than the page itself.
 *
 * With several transactions replicas behind one name, a replica that dies takes the calls in
 * flight on its connections with it, and for a moment DNS still gives its address. A call the
 * caller marks `idempotent` (safe to send twice) that fails before any byte of an answer came
 * back is sent once more, on a fresh connection to another address of the name when there is
 * one, within the same TIMEOUT_MS. Once an answer started, or for any other call, an error is
 * final: the request may have done its work.
 */
export function createSender(baseUrl: string, logger: Logger, { maxSocketAgeMs = MAX_SOCKET_AGE_MS } = {}) {
  const https = new URL(baseUrl).protocol === 'https:';
  const agent = createAgent(https, maxSocketAgeMs);
  const request = https ? httpsRequest : httpRequest;

  function attempt(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string,
    connection: { agent: HttpAgent | false; timeout: number; lookup?: LookupFunction },
  ): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const req = request(`${baseUrl}${path}`, { method, headers, ...connection }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error('connection closed in the middle of the answer'));
        });
      });
      const socket = watchSocket(req);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${connection.timeout} ms`)));
      req.on('error', (err: Error) => reject(socket.answered() ? err : new NoAnswer(err, socket.address())));
      req.end(body || undefined);
    });
  }

  return async function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string,
    idempotent: boolean,
  ): Promise<RawResponse> {
    const started = Date.now();
    try {
      return await attempt(method, path, headers, body, { agent, timeout: TIMEOUT_MS });
    } catch (err) {
      const left = TIMEOUT_MS - (Date.now() - started);
      if (!idempotent || !(err instanceof NoAnswer) || left < MIN_RETRY_MS) throw err;
      const address = err.address ?? err.error.address;
      logger.warn(
        { err: err.message, code: err.error.code, address, path },
        'transactions call failed before any answer: sent again on a fresh connection',
      );
      return await attempt(method, path, headers, body, {
        agent: false,
        timeout: left,
        ...(address ? { lookup: lookupAvoiding(address) } : {}),
      });
    }
  };
}
