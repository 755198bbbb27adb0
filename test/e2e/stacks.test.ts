/**
 * Docker tier: the three Compose stacks built from this repository, driven as a user and an
 * operator would, through the published ports only (CI 5000, UAT 5001 + 5433, PROD 5002).
 * scripts/e2e.sh starts the engine and builds the images first; every suite removes its stack
 * (containers and volumes) before and after itself, even when a test fails.
 * Warning: it destroys the bank-ci, bank-uat and bank-prod projects' data on this machine.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import knex from 'knex';
import { ComposeStack, inspect, run, runOk, TempEnvFile } from './helpers/compose.js';
import { hostListeners } from './helpers/listeners.js';
import { header, http, waitForStatus } from './helpers/http.js';
import { CookieJar, getPage, login, submitForm } from './helpers/login.js';

const SEED_PASSWORD = 'password123';

function secret(): string {
  return randomBytes(24).toString('hex');
}

/** Everything a UAT/PROD stack reads from its env file, with fresh random secrets. */
function stackEnv(dbPassword: string): Record<string, string> {
  return {
    POSTGRES_DB: 'bankdb',
    POSTGRES_USER: 'bank',
    POSTGRES_PASSWORD: dbPassword,
    DATABASE_URL: `postgresql://bank:${dbPassword}@db:5432/bankdb`,
    SECRET_KEY: secret(),
    SERVICE_SIGNING_SECRET: secret(),
    SERVICE_SIGNING_KEY_ID: 'e2e',
    LOG_LEVEL: 'info',
  };
}

async function seesDashboard(baseUrl: string, username: string): Promise<void> {
  const jar = await login(baseUrl, username, SEED_PASSWORD);
  const dashboard = await getPage(baseUrl, '/dashboard', jar);
  expect(dashboard.status, dashboard.body.slice(0, 300)).to.equal(200);
  expect(dashboard.body).to.contain(username);
}

/** Runs `fn`; on failure, appends the stack's ps + logs to the error. */
async function withDiagnostics(stack: ComposeStack, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    const diagnostics = await stack.diagnostics().catch((e: Error) => e.message);
    (error as Error).message += `\n${diagnostics}`;
    throw error;
  }
}

describe('Docker stacks (e2e)', function () {
  describe('CI stack: gateway on localhost:5000, SQLite on a volume', function () {
    const base = 'http://localhost:5000';
    const stack = new ComposeStack('bank-ci', 'compose/docker-compose.ci.yml');

    before(async function () {
      this.timeout(600_000);
      await stack.down();
      await withDiagnostics(stack, async () => {
        await stack.ok(['up', '-d']);
        await waitForStatus(`${base}/health`, { timeoutMs: 120_000 });
      });
    });

    after(async function () {
      this.timeout(120_000);
      await stack.down();
    });

    it('answers GET /health with 200 {"status":"ok"} through the gateway', async function () {
      const response = await http(`${base}/health`);
      expect(response.status).to.equal(200);
      expect(JSON.parse(response.body)).to.deep.equal({ status: 'ok' });
    });

    it('lets alice log in through the gateway and see her dashboard', async function () {
      await seesDashboard(base, 'alice');
    });

    it("adds the gateway's headers, hides the nginx version and overwrites a client's request id", async function () {
      const response = await http(`${base}/login`, { headers: { 'X-Request-Id': 'forged-by-client' } });
      expect(response.status).to.equal(200);
      expect(header(response, 'server')).to.equal('nginx');
      const requestId = header(response, 'x-request-id');
      expect(requestId).to.match(/^[0-9a-f]{32}$/);
      expect(header(response, 'x-content-type-options')).to.equal('nosniff');
      expect(header(response, 'x-frame-options')).to.equal('DENY');
      expect(header(response, 'x-upstream-color')).to.equal('ci');
      expect(header(response, 'x-app-color')).to.equal('ci');
    });

    it('writes a JSON access log line with the request id and the upstream colour', async function () {
      const response = await http(`${base}/health?probe=${secret()}`);
      const requestId = header(response, 'x-request-id');
      let line: string | undefined;
      for (let i = 0; i < 20 && !line; i++) {
        line = (await stack.logs('gateway')).split('\n').find((l) => l.includes(`"request_id":"${requestId}"`));
        if (!line) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(line, 'access log line').to.be.a('string');
      const entry = JSON.parse(line!.slice(line!.indexOf('{'))) as Record<string, unknown>;
      expect(entry).to.include({ request_id: requestId, upstream_color: 'ci', status: 200, method: 'GET' });
    });

    it('listens on 127.0.0.1:5000 only (ss -ltn of the host)', async function () {
      expect(await hostListeners(5000)).to.deep.equal(['127.0.0.1:5000']);
    });

    it("answers 404 for the services' /metrics on the public port, in every spelling", async function () {
      const spellings = ['/metrics', '/METRICS', '/Metrics/', '//metrics', '/./metrics', '/%6Detrics', '/metrics;x'];
      for (const pathname of [...spellings, '/metrics?x', '/metrics/../metrics']) {
        // curl --path-as-is: the path reaches the gateway as written, unnormalised.
        const out = await runOk('curl', ['-sS', '--path-as-is', '-w', '\n%{http_code}', `${base}${pathname}`]);
        expect(out.slice(out.lastIndexOf('\n') + 1), pathname).to.equal('404');
        expect(out, pathname).to.not.contain('# TYPE');
      }
    });

    it('serves its own 502 page when the web service is down, and follows it when it is back', async function () {
      this.timeout(180_000);
      const gatewayBefore = await inspect(await stack.containerId('gateway'));
      // A restarted container may get a new address (here for sure: a placeholder takes its old
      // one); the gateway must follow it by itself, without a restart.
      const webId = await stack.containerId('web');
      const addressOf = async (id: string): Promise<string> =>
        (
          await runOk('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])
        ).trim();
      const oldAddress = await addressOf(webId);
      await stack.ok(['stop', 'web']);
      const response = await http(`${base}/dashboard`, { timeoutMs: 30_000 });
      expect(response.status).to.be.oneOf([502, 504]);
      expect(header(response, 'content-type')).to.contain('text/html');
      expect(response.body).to.contain('Service indisponible');
      expect(header(response, 'x-request-id')).to.match(/^[0-9a-f]{32}$/);
      expect(header(response, 'retry-after')).to.equal('5');

      const network = Object.keys(gatewayBefore.NetworkSettings.Networks)[0]!;
      const placeholder = (
        await runOk('docker', [
          'run',
          '-d',
          '--rm',
          '--network',
          network,
          '--entrypoint',
          'sleep',
          'bank-gateway:ci',
          '300',
        ])
      ).trim();
      try {
        await stack.ok(['start', 'web']);
        expect(await addressOf(webId)).to.not.equal(oldAddress);
        await waitForStatus(`${base}/health`, { timeoutMs: 90_000 });
      } finally {
        await run('docker', ['rm', '-f', placeholder]);
      }
      const gatewayAfter = await inspect(await stack.containerId('gateway'));
      expect(gatewayAfter.State.StartedAt, 'gateway restarted').to.equal(gatewayBefore.State.StartedAt);
    });
  });

  describe('UAT stack: gateway on localhost:5001, PostgreSQL 16 on localhost:5433', function () {
    const base = 'http://localhost:5001';
    const dbPassword = secret();
    const envFile = new TempEnvFile(stackEnv(dbPassword));
    const stack = new ComposeStack('bank-uat', 'compose/docker-compose.uat.yml', { ENV_FILE: envFile.path });

    async function query<T>(sql: string, params: string[] = []): Promise<T[]> {
      const db = knex({
        compileSqlOnError: false,
        client: 'pg',
        connection: { host: '127.0.0.1', port: 5433, user: 'bank', password: dbPassword, database: 'bankdb' },
      });
      try {
        return ((await db.raw(sql, params)) as { rows: T[] }).rows;
      } finally {
        await db.destroy();
      }
    }

    async function up(): Promise<void> {
      await withDiagnostics(stack, async () => {
        await stack.ok(['up', '-d']);
        await waitForStatus(`${base}/health`, { timeoutMs: 150_000 });
      });
    }

    before(async function () {
      this.timeout(900_000);
      await stack.down();
      // MODE=build: compose builds the images itself (layers cached from scripts/e2e.sh's build).
      await withDiagnostics(stack, async () => {
        await stack.ok(['build']);
      });
      await up();
    });

    after(async function () {
      this.timeout(120_000);
      await stack.down();
      envFile.cleanup();
    });

    it('serves the bank on 5001: health, then alice logs in and sees her dashboard', async function () {
      const response = await http(`${base}/health`);
      expect(response.status).to.equal(200);
      expect(JSON.parse(response.body)).to.deep.equal({ status: 'ok' });
      await seesDashboard(base, 'alice');
    });

    it('publishes the gateway (5001) and the database (5433) on 127.0.0.1 only (ss -ltn of the host)', async function () {
      expect(await hostListeners(5001)).to.deep.equal(['127.0.0.1:5001']);
      expect(await hostListeners(5433)).to.deep.equal(['127.0.0.1:5433']);
    });

    it("answers 404 for the services' /metrics on 5001", async function () {
      expect((await http(`${base}/metrics`)).status).to.equal(404);
    });

    it('has PostgreSQL answering on host port 5433', async function () {
      const [row] = await query<{ version: string }>('SELECT version() AS version');
      expect(row?.version).to.match(/^PostgreSQL 16\./);
    });

    it('stores password_hash as character varying(255)', async function () {
      const rows = await query<{ data_type: string; character_maximum_length: number }>(
        `SELECT data_type, character_maximum_length FROM information_schema.columns
          WHERE table_name = 'users' AND column_name = 'password_hash'`,
      );
      expect(rows).to.deep.equal([{ data_type: 'character varying', character_maximum_length: 255 }]);
    });

    it('keeps its data across down + up, and loses it with down -v', async function () {
      this.timeout(600_000);
      const username = `e2e_${randomBytes(4).toString('hex')}`;
      const password = `Pw-${secret()}`;
      const registered = await submitForm(base, '/register', { username, password }, new CookieJar());
      expect(registered.status, registered.body.slice(0, 300)).to.be.oneOf([200, 302, 303]);
      const countUser = async (): Promise<number> =>
        (await query<{ n: string }>('SELECT count(*) AS n FROM users WHERE username = ?', [username])).map((r) =>
          Number(r.n),
        )[0] ?? 0;
      expect(await countUser()).to.equal(1);

      await stack.down(false);
      await up();
      expect(await countUser()).to.equal(1);
      await login(base, username, password);

      await stack.down(true);
      await up();
      expect(await countUser()).to.equal(0);
      await seesDashboard(base, 'alice');
    });

    for (const variable of ['SECRET_KEY', 'DATABASE_URL']) {
      it(`stops the web service at start-up with a message naming a missing ${variable}`, async function () {
        this.timeout(180_000);
        const vars = stackEnv(secret());
        delete vars[variable];
        const badEnv = new TempEnvFile(vars);
        const broken = new ComposeStack('bank-uat-broken', 'compose/docker-compose.uat.yml', { ENV_FILE: badEnv.path });
        try {
          await broken.ok(['up', '-d', '--no-deps', 'web']);
          let logs = '';
          for (let i = 0; i < 60 && !logs.includes(variable); i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            logs = await broken.logs('web');
          }
          expect(logs).to.contain(variable);
          const info = await inspect(await broken.containerId('web'));
          // Exited, or restarting after exits (restart: unless-stopped): never serving.
          expect(info.State.Status === 'exited' || info.RestartCount > 0 || info.State.Status === 'restarting').to.be
            .true;
        } finally {
          await broken.down();
          badEnv.cleanup();
        }
      });
    }
  });

  describe('PROD stack: blue/green behind the gateway on localhost:5002', function () {
    const base = 'http://localhost:5002';
    const envFile = new TempEnvFile(stackEnv(secret()));
    // The demo customers, as the deploy seeds them while the gateway stays on loopback.
    const stack = new ComposeStack(
      'bank-prod',
      'compose/docker-compose.prod.yml',
      { ENV_FILE: envFile.path, SEED_DEMO_CUSTOMERS: 'yes' },
      ['blue', 'green'],
    );

    before(async function () {
      this.timeout(600_000);
      await stack.down();
      await withDiagnostics(stack, async () => {
        // The migrate job reads admin's password on stdin, as the deploy script sends it; the
        // colour then starts without running it again.
        await stack.ok(['run', '--rm', '-T', 'migrate'], 600_000, `${secret()}\n`);
        // The colour first: nginx resolves its upstream host when it starts.
        await stack.ok(['--profile', 'blue', 'up', '-d', '--no-deps', 'transactions_blue', 'web_blue']);
        await stack.ok(['up', '-d', 'gateway']);
        await waitForStatus(`${base}/health`, { timeoutMs: 150_000 });
      });
    });

    after(async function () {
      this.timeout(120_000);
      await stack.down();
      envFile.cleanup();
    });

    it('serves blue on 5002 and says so', async function () {
      const health = await http(`${base}/health`);
      expect(health.status).to.equal(200);
      expect(header(health, 'x-app-color')).to.equal('blue');
      expect(header(health, 'x-upstream-color')).to.equal('blue');
      const version = await http(`${base}/version`);
      expect(JSON.parse(version.body)).to.include({ service: 'web', color: 'blue' });
      const current = await run('docker', ['exec', await stack.containerId('gateway'), 'set-upstream', '--current']);
      expect(current.stdout.trim(), current.stderr).to.equal('web_blue blue');
      await seesDashboard(base, 'bob');
    });

    it('publishes no port but the gateway', async function () {
      for (const service of ['web_blue', 'transactions_blue']) {
        const info = await inspect(await stack.containerId(service));
        const published = Object.values(info.NetworkSettings.Ports ?? {}).filter((binding) => binding !== null);
        expect(published, service).to.deep.equal([]);
      }
    });

    it('reports not-ready while the DB is stopped and recovers by itself when it is back', async function () {
      this.timeout(300_000);
      const services = ['web_blue', 'transactions_blue'];
      const before = await Promise.all(services.map(async (s) => inspect(await stack.containerId(s))));
      const transactionsId = await stack.containerId('transactions_blue');
      const transactionsReady = async (): Promise<number> => {
        const probe = await run('docker', [
          'exec',
          transactionsId,
          'node',
          '-e',
          "fetch('http://127.0.0.1:5000/ready').then((r) => console.log(r.status), () => console.log(0))",
        ]);
        return Number(probe.stdout.trim());
      };
      await waitForStatus(`${base}/ready`, { status: 200, timeoutMs: 30_000 });

      await stack.ok(['stop', 'db']);
      await waitForStatus(`${base}/ready`, { status: 503, timeoutMs: 60_000 });
      expect(await transactionsReady()).to.equal(503);
      expect((await http(`${base}/health`)).status).to.equal(200);

      await stack.ok(['start', 'db']);
      await waitForStatus(`${base}/ready`, { status: 200, timeoutMs: 90_000 });
      for (let i = 0; i < 60 && (await transactionsReady()) !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      expect(await transactionsReady()).to.equal(200);
      await seesDashboard(base, 'charlie');

      const after = await Promise.all(services.map(async (s) => inspect(await stack.containerId(s))));
      after.forEach((info, i) => {
        expect(info.State.StartedAt, `${services[i]} was restarted`).to.equal(before[i]?.State.StartedAt);
        expect(info.RestartCount).to.equal(before[i]?.RestartCount);
      });
    });
  });
});
