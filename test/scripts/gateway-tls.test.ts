import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TLS_SCRIPT = path.join(root, 'scripts/gateway-tls.sh');

function run(command: string, args: string[], env: Record<string, string>, cwd = root) {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function openssl(dir: string, ...args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A self-signed certificate and key in `dir`, valid from `start` to `end` (openssl ca dates). */
function certificate(dir: string, name: string, start: string, end: string): { cert: string; key: string } {
  writeFileSync(
    path.join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca = x\n[x]\ndatabase = index\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n',
  );
  writeFileSync(path.join(dir, 'index'), '');
  writeFileSync(path.join(dir, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  );
  openssl(
    dir,
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-selfsign',
    '-keyfile',
    `${name}-key.pem`,
    '-in',
    `${name}.csr`,
    '-startdate',
    start,
    '-enddate',
    end,
    '-out',
    `${name}.pem`,
  );
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}-key.pem`) };
}

describe('scripts/gateway-tls.sh check: what the deploy refuses to serve', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'gateway-tls-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const check = (cert: string, key: string) => run('bash', [TLS_SCRIPT, 'check', cert, key], {});
  const oneLine = (stderr: string) => stderr.trim().split('\n');

  it('accepts a valid pair', () => {
    const { cert, key } = certificate(dir, 'good', '20250101000000Z', '20990101000000Z');
    const result = check(cert, key);
    expect(result.code, result.stderr).to.equal(0);
  });

  it('refuses an expired certificate, a key of another certificate, a missing file, non-PEM, an encrypted key: exit 2, one line naming the file', () => {
    const good = certificate(dir, 'good2', '20250101000000Z', '20990101000000Z');
    const expired = certificate(dir, 'expired', '20200101000000Z', '20200201000000Z');
    const other = certificate(dir, 'other', '20250101000000Z', '20990101000000Z');
    writeFileSync(path.join(dir, 'garbage.pem'), 'not a certificate\n');
    openssl(dir, 'pkey', '-in', good.key, '-aes256', '-passout', 'pass:a-passphrase', '-out', 'encrypted-key.pem');
    const cases: Array<[string, string, RegExp]> = [
      [expired.cert, expired.key, new RegExp(`${expired.cert} expired on Feb  1 00:00:00 2020 GMT`)],
      [good.cert, other.key, new RegExp(`${other.key} does not match the certificate ${good.cert}`)],
      [path.join(dir, 'missing.pem'), good.key, /missing\.pem does not exist/],
      [path.join(dir, 'garbage.pem'), good.key, /garbage\.pem is not a PEM certificate/],
      [good.cert, path.join(dir, 'encrypted-key.pem'), /encrypted-key\.pem is not an unencrypted PEM private key/],
    ];
    for (const [cert, key, message] of cases) {
      const result = check(cert, key);
      expect(result.code, result.stderr).to.equal(2);
      expect(oneLine(result.stderr), result.stderr).to.have.length(1);
      expect(result.stderr).to.match(message);
    }
  });
});

describe('scripts/gateway-tls.sh issue: the local CA', function () {
  this.timeout(30_000);
  let state: string;
  before(() => (state = mkdtempSync(path.join(tmpdir(), 'gateway-tls-state-'))));
  after(() => rmSync(state, { recursive: true, force: true }));

  it('creates the CA once in the state directory, prints its path, and issues a certificate for localhost and GATEWAY_TLS_NAMES', () => {
    const first = run('bash', [TLS_SCRIPT, 'issue', 'prod'], {
      BANK_STATE_DIR: state,
      GATEWAY_TLS_NAMES: 'bank.lan,192.168.1.20',
    });
    expect(first.code, first.stderr).to.equal(0);
    const ca = path.join(state, 'tls/ca.pem');
    expect(first.stdout).to.contain(`CA ${ca}`);
    expect(first.stderr).to.contain('created the local CA');
    expect(statSync(path.join(state, 'tls/ca-key.pem')).mode & 0o777).to.equal(0o600);
    expect(statSync(path.join(state, 'tls/prod-key.pem')).mode & 0o777).to.equal(0o600);
    const text = spawnSync('openssl', ['x509', '-noout', '-text', '-in', path.join(state, 'tls/prod.pem')], {
      encoding: 'utf8',
    }).stdout;
    expect(text).to.contain(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:bank.lan, IP Address:192.168.1.20',
    );
    const verify = spawnSync('openssl', ['verify', '-CAfile', ca, path.join(state, 'tls/prod.pem')], {
      encoding: 'utf8',
    });
    expect(verify.status, verify.stderr).to.equal(0);

    const caBefore = readFileSync(ca, 'utf8');
    const certBefore = readFileSync(path.join(state, 'tls/prod.pem'), 'utf8');
    const again = run('bash', [TLS_SCRIPT, 'issue', 'prod'], {
      BANK_STATE_DIR: state,
      GATEWAY_TLS_NAMES: 'bank.lan,192.168.1.20',
    });
    expect(again.code).to.equal(0);
    expect(readFileSync(path.join(state, 'tls/prod.pem'), 'utf8'), 'same names: reused').to.equal(certBefore);
    const renamed = run('bash', [TLS_SCRIPT, 'issue', 'prod'], {
      BANK_STATE_DIR: state,
      GATEWAY_TLS_NAMES: 'bank.lan',
    });
    expect(renamed.stderr).to.contain('issued');
    expect(readFileSync(path.join(state, 'tls/prod.pem'), 'utf8'), 'other names: re-issued').to.not.equal(certBefore);
    expect(readFileSync(ca, 'utf8'), 'one CA').to.equal(caBefore);
  });
});

/**
 * The deploy's exposure parameters, refused before Docker is touched: `docker` is a tripwire.
 */
describe('deploy_blue_green_local.sh: exposure parameters', function () {
  this.timeout(30_000);

  function deploy(env: Record<string, string>) {
    const bin = mkdtempSync(path.join(tmpdir(), 'deploy-exposure-'));
    const calls = path.join(bin, 'calls');
    for (const tool of ['docker', 'docker-compose']) {
      writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "$0 $*" >> '${calls}'\nexit 1\n`);
      chmodSync(path.join(bin, tool), 0o755);
    }
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const result = spawnSync('bash', [path.join(root, 'scripts/deploy_blue_green_local.sh')], {
      cwd: root,
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, ...env },
      encoding: 'utf8',
    });
    const dockerCalls = existsSync(calls);
    rmSync(bin, { recursive: true, force: true });
    return { code: result.status, stderr: result.stderr, dockerCalls };
  }

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['an unknown GATEWAY_TLS', { GATEWAY_TLS: 'yes' }, /unknown GATEWAY_TLS 'yes' \(expected on or off/],
    [
      'plain HTTP beyond loopback',
      { GATEWAY_TLS: 'off', GATEWAY_BIND_ADDRESS: '0.0.0.0' },
      /GATEWAY_TLS=off with GATEWAY_BIND_ADDRESS=0\.0\.0\.0: a gateway reachable from other machines serves HTTPS only/,
    ],
    [
      'a bind address that is not one',
      { GATEWAY_BIND_ADDRESS: 'everywhere' },
      /GATEWAY_BIND_ADDRESS must be an IP address/,
    ],
    [
      'a certificate without its key',
      { GATEWAY_TLS_CERT: '/tmp/cert.pem' },
      /GATEWAY_TLS_CERT and GATEWAY_TLS_KEY go together/,
    ],
    [
      'PROD demo customers beyond loopback',
      { TARGET: 'prod', GATEWAY_BIND_ADDRESS: '0.0.0.0', PROD_DEMO_CUSTOMERS: 'true' },
      /PROD_DEMO_CUSTOMERS=true with GATEWAY_BIND_ADDRESS=0\.0\.0\.0 would publish alice, bob and charlie .*: set PROD_DEMO_CUSTOMERS=false, or GATEWAY_BIND_ADDRESS=127\.0\.0\.1/,
    ],
    [
      'an unknown PROD_DEMO_CUSTOMERS',
      { TARGET: 'prod', PROD_DEMO_CUSTOMERS: 'maybe' },
      /PROD_DEMO_CUSTOMERS must be true or false, got 'maybe'/,
    ],
  ];
  for (const [what, env, message] of cases) {
    it(`refuses ${what}: exit 2, one line, Docker untouched`, () => {
      const result = deploy(env);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.match(message);
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
      expect(result.dockerCalls).to.equal(false);
    });
  }
});
