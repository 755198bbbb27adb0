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

    it('publishes the database and the gateway on 127.0.0.1 only by default', function () {
      const ports = publishedPorts(file, {});
      expect(ports.db).to.deep.equal([`127.0.0.1:${dbPort}`]);
      expect(ports.gateway).to.deep.equal([`127.0.0.1:${gatewayPort}`]);
      expect(Object.keys(ports).sort(), 'only the database and the gateway publish ports').to.deep.equal([
        'db',
        'gateway',
      ]);
    });

    it('widens the database with DB_BIND_ADDRESS and the gateway with GATEWAY_BIND_ADDRESS', function () {
      const ports = publishedPorts(file, { DB_BIND_ADDRESS: '0.0.0.0', GATEWAY_BIND_ADDRESS: '192.168.1.20' });
      expect(ports.db).to.deep.equal([`0.0.0.0:${dbPort}`]);
      expect(ports.gateway).to.deep.equal([`192.168.1.20:${gatewayPort}`]);
    });
  });
}

describe('compose/docker-compose.ci.yml: published addresses', function () {
  it('publishes the CI gateway on 127.0.0.1 only, whatever GATEWAY_BIND_ADDRESS says (its secrets are public)', function () {
    const ports = publishedPorts('compose/docker-compose.ci.yml', { GATEWAY_BIND_ADDRESS: '0.0.0.0' });
    expect(ports).to.deep.equal({ gateway: ['127.0.0.1:5000'] });
  });
});
