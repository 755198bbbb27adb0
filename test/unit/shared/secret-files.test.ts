import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, withSecretFiles } from '#shared/config.js';
import { loadWebConfig } from '#web/config.js';

describe('secrets read from files (NAME_FILE, Docker secrets)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'secret-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function secretFile(name: string, content: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  function configError(fn: () => unknown): ConfigError {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('expected a ConfigError');
  }

  it('gives the web service its secrets from the files, without the trailing newline', () => {
    const env = withSecretFiles({
      NODE_ENV: 'production',
      DATABASE_URL_FILE: secretFile('url', 'postgresql://bank:pw@db:5432/bankdb\n'),
      SECRET_KEY_FILE: secretFile('key', `${'k'.repeat(40)}\n`),
      SERVICE_SIGNING_SECRET_FILE: secretFile('signing', 's'.repeat(40)),
    });
    const config = loadWebConfig(env);
    expect(config.databaseUrl).to.equal('postgresql://bank:pw@db:5432/bankdb');
    expect(config.signing.secret).to.equal('s'.repeat(40));
    expect(env.SECRET_KEY).to.equal('k'.repeat(40));
    expect(env).not.to.have.property('SECRET_KEY_FILE');
  });

  it('refuses a secret given twice, a missing file and an empty one, naming the variable', () => {
    const both = configError(() => withSecretFiles({ SECRET_KEY: 'x', SECRET_KEY_FILE: secretFile('k', 'y') }));
    expect(both.message).to.equal(
      'Invalid configuration: SECRET_KEY_FILE and SECRET_KEY are both set; give one of them',
    );
    const missing = configError(() => withSecretFiles({ DATABASE_URL_FILE: path.join(dir, 'absent') }));
    expect(missing.message).to.match(/^Invalid configuration: DATABASE_URL_FILE cannot be read \(ENOENT: .*absent\)$/);
    const empty = configError(() => withSecretFiles({ SERVICE_SIGNING_SECRET_FILE: secretFile('e', '\n') }));
    expect(empty.message).to.contain('SERVICE_SIGNING_SECRET_FILE names an empty file');
  });

  it('leaves other *_FILE variables and an environment without them as they are', () => {
    const env = { NODE_ENV: 'test', LOG_FILE: '/tmp/x' };
    expect(withSecretFiles(env)).to.deep.equal(env);
  });
});
