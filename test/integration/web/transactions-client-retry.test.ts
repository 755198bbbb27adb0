/**
 * web's transactions client when a transactions replica dies under it, against real sockets: a
 * Node http server that answers, resets the connection, or dies in the middle of an answer, as a
 * killed container does. Reads and keyed POSTs are sent once more on a fresh connection when no
 * byte of an answer came back; nothing is sent twice once an answer started, nor a POST without
 * key; a keep-alive connection is not reused for ever.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { AppError } from '#shared/errors.js';
import { createTransactionsClient } from '../../../services/web/src/transactions-client.js';
import { createSender } from '../../../services/web/src/transactions-sender.js';

type Behaviour = 'answer' | 'reset' | 'half-answer';

interface Seen {
  method: string;
  url: string;
  body: string;
  connection: number;
}

/** A server that handles its requests in turn as `script` says (then answers), recording each. */
class ScriptedServer {
  readonly seen: Seen[] = [];
  script: Behaviour[] = [];
  connections = 0;
  private readonly server: Server;
  private readonly ids = new WeakMap<Socket, number>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket: Socket) => this.ids.set(socket, ++this.connections));
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', body, connection: this.ids.get(req.socket) ?? 0 });
    const behaviour = this.script.shift() ?? 'answer';
    if (behaviour === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    const answer = JSON.stringify({ accounts: [], movements: [], transfer: { reference: 'TRX-1' } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    if (behaviour === 'half-answer') {
      res.write(answer.slice(0, 10));
      setTimeout(() => req.socket.resetAndDestroy(), 20);
      return;
    }
    res.end(answer);
  }
}

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

const KEY = { keyId: 'k1', secret: 'test-secret-of-enough-length-0123456789' };
const TRANSFER = { idempotencyKey: 'key-12345678', fromAccount: 'FR01', to: 'bob', amount: '10.00' };

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(AppError);
  expect((err as AppError).status).to.equal(503);
}

describe('web transactions client: a replica that fails before answering', () => {
  let server: ScriptedServer;
  let url: string;
  let log: ReturnType<typeof capturingLogger>;
  let client: ReturnType<typeof createTransactionsClient>;

  beforeEach(async () => {
    server = new ScriptedServer();
    url = await server.start();
    log = capturingLogger();
    client = createTransactionsClient(url, KEY, log.logger);
  });
  afterEach(() => server.close());

  it('sends a GET again on a fresh connection when its kept-alive connection is reset', async () => {
    await client.overview(1);
    expect(server.connections).to.equal(1);
    server.script = ['reset'];
    const overview = await client.overview(1);
    expect(overview.accounts).to.deep.equal([]);
    expect(server.seen.map((s) => s.connection)).to.deep.equal([1, 1, 2]);
    const warning = log.lines.find((l) => String(l.msg).includes('sent again'));
    expect(warning, 'the retry is logged').to.include({ path: '/api/overview?limit=5', code: 'ECONNRESET' });
  });

  it('sends a transfer (it carries an idempotency key) again, with the same body', async () => {
    server.script = ['reset'];
    const transfer = await client.transfer(1, TRANSFER);
    expect(transfer.reference).to.equal('TRX-1');
    expect(server.seen).to.have.length(2);
    expect(server.seen[1]!.body).to.equal(server.seen[0]!.body);
    expect(JSON.parse(server.seen[1]!.body)).to.include({ idempotencyKey: 'key-12345678' });
  });

  it('sends a keyed account opening again', async () => {
    server.script = ['reset'];
    await client.openAccount(1, { idempotencyKey: 'open-12345678', currency: 'USD' });
    expect(server.seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal(['POST /api/accounts', 'POST /api/accounts']);
  });

  it('never sends a POST without idempotency key twice', async () => {
    server.script = ['reset'];
    await expectUnavailable(client.openPrimaryAccount(1));
    expect(server.seen).to.have.length(1);
  });

  it('never sends a request again once part of the answer came back', async () => {
    server.script = ['half-answer'];
    await expectUnavailable(client.overview(1));
    expect(server.seen).to.have.length(1);
  });

  it('retries once only: a second failure is a 503', async () => {
    server.script = ['reset', 'reset'];
    await expectUnavailable(client.accounts(1));
    expect(server.seen).to.have.length(2);
    expect((await client.accounts(1)).length, 'the next call works').to.equal(0);
  });

  it('answers 503 when nothing listens (connection refused twice)', async () => {
    await server.close();
    const started = Date.now();
    await expectUnavailable(client.accounts(1));
    expect(Date.now() - started, 'a refused connection fails fast').to.be.below(2_000);
    expect(log.lines.some((l) => l.code === 'ECONNREFUSED')).to.equal(true);
  });
});

describe('web transactions client: keep-alive connections retire', () => {
  it('opens a new connection once a kept-alive one is older than its maximum age', async () => {
    const server = new ScriptedServer();
    const url = await server.start();
    try {
      const send = createSender(url, capturingLogger().logger, { maxSocketAgeMs: 300 });
      const get = () => send('GET', '/api/accounts', {}, '', true);
      await get();
      await get();
      expect(server.connections, 'reused while young').to.equal(1);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await get();
      await get();
      expect(server.connections, 'retired once old').to.equal(2);
      expect(server.seen.map((s) => s.connection)).to.deep.equal([1, 1, 1, 2]);
    } finally {
      await server.close();
    }
  });
});
