/**
 * The cluster tier's view of the Docker Swarm made by scripts/cluster.sh: commands on the manager
 * node (`docker exec bank-node-1 docker ...`), where each task runs, the database of the stack,
 * and a client that posts keyed transfers and retries each one with its key until it has an answer.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { http } from '../e2e/helpers/http.js';
import { CookieJar, login, getPage } from '../e2e/helpers/login.js';

const exec = promisify(execFile);

export const MANAGER = 'bank-node-1';
export const STACK = 'bank';
export const CLUSTER_URL = `http://127.0.0.1:${process.env.CLUSTER_GATEWAY_PORT ?? '5012'}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A docker command on this host; resolves with stdout, rejects with stderr in the message. */
export async function docker(...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('docker', args, { maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${e.stderr ?? e.message}`);
  }
}

const SOCKET = `${process.env.CLUSTER_SOCKET_DIR ?? '/tmp/bank-cluster'}/docker.sock`;

function socketUsable(): boolean {
  try {
    accessSync(SOCKET, constants.W_OK);
    return statSync(SOCKET).isSocket();
  } catch {
    return false;
  }
}

/** A docker command on the swarm's manager: through its socket when usable, else `docker exec`. */
export function swarm(...args: string[]): Promise<string> {
  if (socketUsable()) return docker('-H', `unix://${SOCKET}`, ...args);
  return docker('exec', MANAGER, 'docker', ...args);
}

export interface Task {
  service: string;
  node: string;
  state: string;
}

/** The tasks Swarm wants running for a service of the stack, with their node and state. */
export async function tasksOf(service: string): Promise<Task[]> {
  const out = await swarm(
    'service',
    'ps',
    `${STACK}_${service}`,
    '--filter',
    'desired-state=running',
    '--format',
    '{{.Node}}|{{.CurrentState}}',
  );
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [node = '', state = ''] = line.split('|');
      return { service, node, state };
    });
}

/** Replicas of a service Swarm wants (its spec). */
export async function desiredReplicas(service: string): Promise<number> {
  return Number(
    (await swarm('service', 'inspect', '-f', '{{.Spec.Mode.Replicated.Replicas}}', `${STACK}_${service}`)).trim(),
  );
}

/** True when every replica of the services runs (healthy), none on the nodes listed in `notOn`. */
export async function whole(services: string[], notOn: string[] = []): Promise<boolean> {
  for (const service of services) {
    const tasks = await tasksOf(service);
    const running = tasks.filter((t) => t.state.startsWith('Running') && !notOn.includes(t.node));
    if (running.length !== (await desiredReplicas(service)) || running.length !== tasks.length) return false;
  }
  return true;
}

/** Seconds until `whole(...)` holds, polling; throws after `limitS`. */
export async function secondsUntilWhole(
  services: string[],
  notOn: string[],
  since: number,
  limitS: number,
): Promise<number> {
  for (;;) {
    if (await whole(services, notOn)) return (Date.now() - since) / 1000;
    if (Date.now() - since > limitS * 1000) {
      const tasks = (await Promise.all(services.map(tasksOf))).flat();
      throw new Error(`not whole after ${limitS} s: ${JSON.stringify(tasks)}`);
    }
    await sleep(500);
  }
}

/** The colour the gateway routes to, from its upstream file. */
export async function activeColour(): Promise<'blue' | 'green'> {
  const gateway =
    (await swarm('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_gateway`))
      .trim()
      .split('\n')[0] ?? '';
  const [, colour] = (await swarm('exec', gateway, 'set-upstream', '--current')).trim().split(' ');
  if (colour !== 'blue' && colour !== 'green') throw new Error(`unexpected active colour ${colour}`);
  return colour;
}

/** The node each task address of the stack's network runs on (`docker network inspect -v`). */
export async function nodeByAddress(): Promise<Map<string, string>> {
  const nodes = new Map<string, string>();
  for (const line of (await swarm('node', 'ls', '-q')).trim().split('\n')) {
    const [name = '', addr = ''] = (
      await swarm('node', 'inspect', '-f', '{{.Description.Hostname}} {{.Status.Addr}}', line)
    )
      .trim()
      .split(' ');
    nodes.set(addr, name);
  }
  const inspect = JSON.parse(await swarm('network', 'inspect', '-v', `${STACK}_net`)) as Array<{
    Services?: Record<string, { Tasks?: Array<{ EndpointIP: string; Info?: Record<string, string> }> }>;
  }>;
  const byAddress = new Map<string, string>();
  for (const service of Object.values(inspect[0]?.Services ?? {})) {
    for (const task of service.Tasks ?? []) {
      byAddress.set(task.EndpointIP, nodes.get(task.Info?.['Host IP'] ?? '') ?? 'unknown');
    }
  }
  return byAddress;
}

/** The upstream addresses the gateway sent requests to since `sinceIso` (its JSON access log). */
export async function upstreamAddresses(sinceIso: string): Promise<Map<string, number>> {
  const gateway =
    (await swarm('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_gateway`))
      .trim()
      .split('\n')[0] ?? '';
  const out = await swarm('logs', '--since', sinceIso, gateway);
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    const match = /"upstream_addr":"([0-9.]+):5000"/.exec(line);
    if (match?.[1]) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  return counts;
}

/**
 * psql in the running task of one of the stack's database services (db, the primary; db_standby,
 * the hot standby), on whichever node runs it: `docker exec <node> docker exec <container> psql`.
 */
export async function sql(query: string, service = 'db'): Promise<string> {
  const tasks = await swarm(
    'service',
    'ps',
    `${STACK}_${service}`,
    '--filter',
    'desired-state=running',
    '--format',
    '{{.ID}} {{.Node}} {{.CurrentState}}',
  );
  const [task, node] =
    tasks
      .split('\n')
      .find((line) => line.split(' ')[2] === 'Running')
      ?.split(' ') ?? [];
  if (!task || !node) throw new Error(`no running task of ${STACK}_${service}:\n${tasks}`);
  const container = (await swarm('inspect', '-f', '{{.Status.ContainerStatus.ContainerID}}', task)).trim();
  return (
    await docker(
      'exec',
      node,
      'docker',
      'exec',
      container,
      'psql',
      '-X',
      '-At',
      '-U',
      'bank',
      '-d',
      'bankdb',
      '-c',
      query,
    )
  ).trim();
}

export interface TransferReport {
  /** Transfers asked for (one key each). */
  keys: string[];
  /** Keys that got their 303 (posted, or found already posted when resent). */
  confirmed: number;
  /** Those keys, in the order they were confirmed. */
  confirmedKeys: string[];
  /** POSTs sent again with the same key after no answer or a 5xx. */
  resentPosts: number;
  /** Keys given up on (no answer after every try). */
  unanswered: number;
}

/**
 * alice sends bob 0.01 EUR at a time, each transfer with the key of its form: when a POST gets no
 * answer (connection error, timeout, 5xx), the same form (same key) is sent again, as a person
 * pressing the button again would, until it is answered. The bank must post each key once.
 */
export class TransferClient {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  readonly report: TransferReport = { keys: [], confirmed: 0, confirmedKeys: [], resentPosts: 0, unanswered: 0 };

  constructor(
    private readonly baseUrl: string,
    private readonly pauseMs = 300,
  ) {}

  async start(): Promise<void> {
    let jar: CookieJar | undefined;
    for (let attempt = 1; !jar; attempt += 1) {
      try {
        jar = await login(this.baseUrl, 'alice', 'password123');
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(1000);
      }
    }
    this.running = true;
    this.loop = this.run(jar);
  }

  async stop(): Promise<TransferReport> {
    this.running = false;
    await this.loop;
    return this.report;
  }

  private async run(jar: CookieJar): Promise<void> {
    while (this.running) {
      try {
        await this.oneTransfer(jar);
      } catch {
        // The form itself could not be had (GET failed): nothing was sent; try again.
      }
      await sleep(this.pauseMs);
    }
  }

  private async oneTransfer(jar: CookieJar): Promise<void> {
    const page = await getPage(this.baseUrl, '/transfer', jar);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.body)?.[1];
    const from = /<select id="fromAccount"[^>]*>\s*<option value="([^"]+)"/.exec(page.body)?.[1];
    if (!csrf || !key || !from) throw new Error(`no transfer form (status ${page.status})`);
    const body = new URLSearchParams({
      _csrf: csrf,
      idempotencyKey: key,
      fromAccount: from,
      to: 'bob',
      amount: '0.01',
      label: 'cluster',
    });
    this.report.keys.push(key);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      if (attempt > 0) this.report.resentPosts += 1;
      try {
        const answer = await http(`${this.baseUrl}/transfer`, {
          method: 'POST',
          headers: { Cookie: jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
          body: body.toString(),
        });
        if (answer.status === 303) {
          this.report.confirmed += 1;
          this.report.confirmedKeys.push(key);
          return;
        }
        if (answer.status < 500) throw new Error(`transfer refused: ${answer.status} ${answer.body.slice(0, 200)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('transfer refused')) throw err;
      }
      await sleep(500);
    }
    this.report.unanswered += 1;
  }
}
