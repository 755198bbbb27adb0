/**
 * Continuous mixed HTTP traffic through the public gateway, used to prove that a blue/green flip
 * fails no request.
 *
 * - `connections` workers share one keep-alive agent with that many sockets, so the traffic runs
 *   over at least that many concurrent keep-alive connections.
 * - Each worker loops over: GET /health, logged-in GET /dashboard (which must answer 200 with the
 *   user's name, a redirect to /login would mean the session was lost), and, on a few workers, the
 *   full login flow (GET /login for the CSRF token, then POST /login, which must redirect to
 *   /dashboard). Logins are CPU-heavy (scrypt) so they get their own, smaller lane.
 * - Every answer outside 2xx/3xx, every unexpected answer and every connection error is counted.
 *
 * Connection errors count as failures, with one exception that every real client makes too: a
 * GET that fails on a *reused* keep-alive socket before any response byte (the server closed that
 * idle connection just as the request left, which nginx does to idle connections when it reloads)
 * is sent once more on a new connection, as browsers and Go's net/http (k6) do. Such resends are
 * counted in `resent`; the flip's keep-alive drain keeps them rare, and `expectNoFailure` bounds
 * them so a broken drain still fails the test. The same error on a POST is a failure (`resets`).
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface LoadReport {
  requests: number;
  ok: number;
  byStatus: Record<string, number>;
  /** Responses outside 2xx/3xx, or an unexpected answer (lost session, failed login). */
  badResponses: number;
  /** Connection errors, resets and timeouts (every one is a failed request). */
  connectionErrors: number;
  /** Of those, the reused keep-alive sockets closed by the server before any response byte. */
  resets: number;
  /** GETs sent again on a new connection after such a close (not failures: every client does it). */
  resent: number;
  /** Most keep-alive sockets open at once. */
  maxConcurrentSockets: number;
  /** Which colour answered, from the X-App-Color header. */
  byColor: Record<string, number>;
  /** First few failures, for the test's diagnostics. */
  samples: string[];
  /** When the first and the last failure happened (epoch ms; 0 without failure). */
  firstFailureAt: number;
  lastFailureAt: number;
  durationMs: number;
}

export interface LoadOptions {
  baseUrl: string;
  /** Workers doing GET /health and GET /dashboard; also the number of keep-alive sockets. */
  connections?: number;
  /** Think time (ms) of a browsing worker between two requests; its socket stays open meanwhile. */
  pauseMs?: number;
  /** Workers running the login flow (GET /login + POST /login) in a loop. */
  loginWorkers?: number;
  /** Pause (ms) between two login flows of one login worker, to keep scrypt load bounded. */
  loginPauseMs?: number;
  users?: string[];
  password?: string;
  requestTimeoutMs?: number;
  /** For an https:// baseUrl: the CA certificate (PEM) that issued the gateway's certificate. */
  ca?: string;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

class RequestFailure extends Error {
  constructor(
    message: string,
    readonly reset: boolean,
  ) {
    super(message);
  }
}

const CLOSE_CODES = new Set(['ECONNRESET', 'EPIPE']);

export function extractCsrf(html: string): string {
  const match = /name="_csrf"\s+value="([^"]+)"/.exec(html) ?? /value="([^"]+)"\s+name="_csrf"/.exec(html);
  if (!match?.[1]) throw new Error('no _csrf field in the login form');
  return match[1];
}

export function cookieFrom(headers: IncomingMessage['headers']): string | undefined {
  const setCookie = headers['set-cookie'];
  if (!setCookie) return undefined;
  return setCookie.map((c) => c.split(';')[0]).join('; ');
}

export class LoadClient {
  private readonly opts: Required<Omit<LoadOptions, 'ca'>> & Pick<LoadOptions, 'ca'>;
  private readonly agent: Agent;
  private readonly https: boolean;
  private running = false;
  private workers: Promise<void>[] = [];
  private startedAt = 0;
  private readonly report: LoadReport = {
    requests: 0,
    ok: 0,
    byStatus: {},
    badResponses: 0,
    connectionErrors: 0,
    resets: 0,
    resent: 0,
    byColor: {},
    samples: [],
    firstFailureAt: 0,
    lastFailureAt: 0,
    durationMs: 0,
    maxConcurrentSockets: 0,
  };
  private sessions: { user: string; cookie: string }[] = [];

  constructor(options: LoadOptions) {
    this.opts = {
      connections: 50,
      loginWorkers: 2,
      pauseMs: 10,
      loginPauseMs: 200,
      // The demo customers: PROD's admin has a random password (scripts/lib/prod_users.sh).
      users: ['alice', 'bob', 'charlie'],
      password: 'password123',
      requestTimeoutMs: 15000,
      ...options,
    };
    const sockets = this.opts.connections + this.opts.loginWorkers;
    const agentOptions = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    this.https = this.opts.baseUrl.startsWith('https:');
    this.agent = this.https ? new HttpsAgent({ ...agentOptions, ca: this.opts.ca }) : new Agent(agentOptions);
  }

  /**
   * One request on the shared keep-alive agent; resolves with the whole answer. A GET whose reused
   * socket was closed under it before any answer is sent again once, on a new connection.
   */
  private async send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    try {
      return await this.attempt(method, path, headers, body, this.agent);
    } catch (err) {
      if (!(err instanceof RequestFailure && err.reset && method === 'GET')) throw err;
      this.report.resent += 1;
      return this.attempt(method, path, headers, body, false);
    }
  }

  private attempt(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    agent: Agent | false,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, this.opts.baseUrl);
      let gotResponse = false;
      const request = this.https ? httpsRequest : httpRequest;
      const req = request(
        url,
        {
          method,
          agent,
          ca: this.opts.ca,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: this.opts.requestTimeoutMs,
        },
        (res) => {
          gotResponse = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (err) => reject(new RequestFailure(`${method} ${path}: ${err.message}`, false)));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${this.opts.requestTimeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const reset = req.reusedSocket && !gotResponse && CLOSE_CODES.has(err.code ?? '');
        const where = req.reusedSocket ? 'reused keep-alive socket' : 'new socket';
        reject(new RequestFailure(`${method} ${path} (${where}): ${err.code ?? ''} ${err.message}`, reset));
      });
      req.end(body);
    });
  }

  /** Records one answer; `expect` says whether it is the answer a user should get. */
  private record(label: string, answer: Answer, expect: boolean): void {
    this.report.requests += 1;
    const open = [this.agent.sockets, this.agent.freeSockets]
      .flatMap((pool) => Object.values(pool))
      .reduce((n, list) => n + (list?.length ?? 0), 0);
    if (open > this.report.maxConcurrentSockets) this.report.maxConcurrentSockets = open;
    this.report.byStatus[answer.status] = (this.report.byStatus[answer.status] ?? 0) + 1;
    const color = answer.headers['x-app-color'];
    if (typeof color === 'string') this.report.byColor[color] = (this.report.byColor[color] ?? 0) + 1;
    if (answer.status >= 200 && answer.status < 400 && expect) {
      this.report.ok += 1;
      return;
    }
    this.report.badResponses += 1;
    this.sample(`${label} → ${answer.status} ${answer.body.slice(0, 120).replace(/\s+/g, ' ')}`);
  }

  private recordError(err: unknown): void {
    this.report.requests += 1;
    this.report.connectionErrors += 1;
    if (err instanceof RequestFailure && err.reset) this.report.resets += 1;
    this.sample(err instanceof Error ? err.message : String(err));
  }

  private sample(text: string): void {
    const now = Date.now();
    if (this.report.firstFailureAt === 0) this.report.firstFailureAt = now;
    this.report.lastFailureAt = now;
    if (this.report.samples.length < 20) this.report.samples.push(text);
  }

  /** Logs in through the gateway and returns the session cookie (throws on any surprise). */
  async login(user: string): Promise<string> {
    const form = await this.send('GET', '/login', {});
    const hasForm = form.status === 200 && form.body.includes('name="_csrf"');
    this.record('GET /login', form, hasForm);
    if (!hasForm) throw new Error(`login of ${user} failed: GET /login answered ${form.status}`);
    const csrf = extractCsrf(form.body);
    const cookie = cookieFrom(form.headers) ?? '';
    const payload = new URLSearchParams({ username: user, password: this.opts.password, _csrf: csrf }).toString();
    const answer = await this.send(
      'POST',
      '/login',
      { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload,
    );
    const ok = answer.status === 302 && (answer.headers.location ?? '').endsWith('/dashboard');
    this.record('POST /login', answer, ok);
    if (!ok) throw new Error(`login of ${user} failed: HTTP ${answer.status}`);
    return cookieFrom(answer.headers) ?? cookie;
  }

  private async browseWorker(index: number): Promise<void> {
    let step = index;
    while (this.running) {
      step += 1;
      try {
        if (step % 2 === 0) {
          const answer = await this.send('GET', '/health', {});
          this.record('GET /health', answer, answer.status === 200);
        } else {
          const session = this.sessions[step % this.sessions.length];
          if (!session) throw new Error('no session');
          const answer = await this.send('GET', '/dashboard', { cookie: session.cookie });
          this.record(
            `GET /dashboard (${session.user})`,
            answer,
            answer.status === 200 && answer.body.includes(session.user),
          );
        }
      } catch (err) {
        this.recordError(err);
      }
      if (this.opts.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.opts.pauseMs));
    }
  }

  private async loginWorker(index: number): Promise<void> {
    const users = this.opts.users;
    let step = index;
    while (this.running) {
      step += 1;
      const user = users[step % users.length] ?? 'alice';
      try {
        await this.login(user);
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('login of'))) this.recordError(err);
      }
      await new Promise((resolve) => setTimeout(resolve, this.opts.loginPauseMs));
    }
  }

  /** Logs in one session per user (sequentially), then starts all workers. */
  async start(): Promise<void> {
    for (const user of this.opts.users) {
      this.sessions.push({ user, cookie: await this.login(user) });
    }
    this.running = true;
    this.startedAt = Date.now();
    for (let i = 0; i < this.opts.connections; i += 1) this.workers.push(this.browseWorker(i));
    for (let i = 0; i < this.opts.loginWorkers; i += 1) this.workers.push(this.loginWorker(i));
  }

  /** Stops the workers after their current request and returns the figures. */
  async stop(): Promise<LoadReport> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
    this.report.durationMs = Date.now() - this.startedAt;
    this.agent.destroy();
    return { ...this.report, byStatus: { ...this.report.byStatus }, byColor: { ...this.report.byColor } };
  }

  /** Counters so far (for checks while the load runs). */
  snapshot(): LoadReport {
    return {
      ...this.report,
      byStatus: { ...this.report.byStatus },
      byColor: { ...this.report.byColor },
      samples: [...this.report.samples],
    };
  }
}

export function formatReport(label: string, r: LoadReport): string {
  const rate = r.durationMs > 0 ? Math.round((r.requests * 1000) / r.durationMs) : 0;
  return (
    `[load] ${label}: ${r.requests} requests in ${(r.durationMs / 1000).toFixed(1)} s (${rate}/s), ` +
    `ok ${r.ok}, bad responses ${r.badResponses}, connection errors ${r.connectionErrors}, ` +
    `(of which resets ${r.resets}), GETs resent after a keep-alive close ${r.resent}, sockets ${r.maxConcurrentSockets}, ` +
    `status ${JSON.stringify(r.byStatus)}, colours ${JSON.stringify(r.byColor)}`
  );
}
