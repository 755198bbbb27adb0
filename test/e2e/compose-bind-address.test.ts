import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface PortEntry {
  host_ip?: string;
  published?: string | number;
  target?: number;
}

/**
 * The host addresses the UAT and PROD stacks publish, as Docker Compose itself resolves them
 * (`config` interpolates the file; no engine needed): `service -> "address:port"`.
 */
function publishedPorts(file: string, vars: Record<string, string>): Record<string, string[]> {
  const env: Record<string, string | undefined> = { ...process.env, ENV_FILE: '/dev/null', ...vars };
  if (!('DB_BIND_ADDRESS' in vars)) delete env.DB_BIND_ADDRESS;
  if (!('GATEWAY_BIND_ADDRESS' in vars)) delete env.GATEWAY_BIND_ADDRESS;
  const text = execFileSync('bash', ['scripts/lib/compose.sh', '-p', 'bind-test', '-f', file, 'config'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  const config = parse(text) as { services: Record<string, { ports?: PortEntry[] }> };
  const result: Record<string, string[]> = {};
  for (const [name, service] of Object.entries(config.services)) {
    if (service.ports) result[name] = service.ports.map((p) => `${p.host_ip ?? '*'}:${String(p.published)}`);
  }
  return result;
}

for (const [stack, dbPort, gatewayPort] of [
  ['uat', '5433', '5001'],
  ['prod', '5434', '5002'],
] as const) {
  describe(`compose/docker-compose.${stack}.yml: published addresses`, function () {
    const file = `compose/docker-compose.${stack}.yml`;

    it('publishes the database on 127.0.0.1 only and the gateway on every interface by default', function () {
      const ports = publishedPorts(file, {});
      expect(ports.db).to.deep.equal([`127.0.0.1:${dbPort}`]);
      expect(ports.gateway).to.deep.equal([`0.0.0.0:${gatewayPort}`]);
      expect(Object.keys(ports).sort(), 'only the database and the gateway publish ports').to.deep.equal([
        'db',
        'gateway',
      ]);
    });

    it('widens the database with DB_BIND_ADDRESS and narrows the gateway with GATEWAY_BIND_ADDRESS', function () {
      const ports = publishedPorts(file, { DB_BIND_ADDRESS: '0.0.0.0', GATEWAY_BIND_ADDRESS: '127.0.0.1' });
      expect(ports.db).to.deep.equal([`0.0.0.0:${dbPort}`]);
      expect(ports.gateway).to.deep.equal([`127.0.0.1:${gatewayPort}`]);
    });
  });
}
