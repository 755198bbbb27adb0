import { expect } from 'chai';
import { ConfigError } from '#shared/config.js';
import { loadTransactionsConfig } from '#transactions/config.js';
import { DEV_SECRET_KEY, loadWebConfig } from '#web/config.js';

const prodEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://bank:pw@db:5432/bankdb',
  SECRET_KEY: 'x'.repeat(40),
  SERVICE_SIGNING_SECRET: 'y'.repeat(40),
};

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config validation', () => {
  it('gives working development defaults (SQLite under ./data, web on 5000)', () => {
    const config = loadWebConfig({});
    expect(config.port).to.equal(5000);
    expect(config.databaseUrl).to.equal('sqlite:///./data/transactions.db');
    expect(config.scrypt).to.deep.equal({ logN: 15, r: 8, p: 3 });
    expect(loadTransactionsConfig({}).port).to.equal(5100);
  });

  it('gives the transactions service none of the web-only settings', () => {
    const config = loadTransactionsConfig({
      NODE_ENV: 'production',
      DATABASE_URL: prodEnv.DATABASE_URL,
      SERVICE_SIGNING_SECRET: 'y'.repeat(40),
    });
    for (const webOnly of [
      'secretKey',
      'transactionsUrl',
      'scrypt',
      'sessionIdleTimeoutS',
      'loginMaxFailuresPerUser',
    ]) {
      expect(config).to.not.have.property(webOnly);
    }
  });

  it('accepts a complete production configuration', () => {
    const config = loadWebConfig({ ...prodEnv, APP_COLOR: 'green', PORT: '5000' });
    expect(config.nodeEnv).to.equal('production');
    expect(config.appColor).to.equal('green');
  });

  it('refuses a missing SECRET_KEY in production, naming the variable', () => {
    const err = failure(() => loadWebConfig({ ...prodEnv, SECRET_KEY: undefined }));
    expect(err.variable).to.equal('SECRET_KEY');
    expect(err.message).to.contain('SECRET_KEY');
  });

  it('refuses the development SECRET_KEY default in production', () => {
    expect(failure(() => loadWebConfig({ ...prodEnv, SECRET_KEY: DEV_SECRET_KEY })).variable).to.equal('SECRET_KEY');
  });

  it('refuses a short secret in production', () => {
    expect(failure(() => loadWebConfig({ ...prodEnv, SERVICE_SIGNING_SECRET: 'short' })).variable).to.equal(
      'SERVICE_SIGNING_SECRET',
    );
  });

  it('requires DATABASE_URL in production and checks its shape everywhere', () => {
    expect(failure(() => loadTransactionsConfig({ ...prodEnv, DATABASE_URL: '' })).variable).to.equal('DATABASE_URL');
    expect(failure(() => loadWebConfig({ DATABASE_URL: 'mysql://x' })).variable).to.equal('DATABASE_URL');
  });

  it('rejects malformed numbers, booleans and enums with the variable name', () => {
    expect(failure(() => loadWebConfig({ PORT: 'abc' })).message).to.contain('PORT');
    expect(failure(() => loadWebConfig({ PORT: '70000' })).message).to.contain('PORT');
    expect(failure(() => loadWebConfig({ TRUST_PROXY: 'maybe' })).variable).to.equal('TRUST_PROXY');
    expect(failure(() => loadWebConfig({ TRUST_PROXY: '10.0.0.0/33' })).variable).to.equal('TRUST_PROXY');
    expect(failure(() => loadWebConfig({ TRUST_PROXY: '10.0.0.1,gateway' })).message).to.contain('"gateway"');
    expect(loadWebConfig({ TRUST_PROXY: '10.0.0.2, fd00::/8' }).trustProxy).to.deep.equal({
      addresses: ['10.0.0.2', 'fd00::/8'],
    });
    expect(loadWebConfig({ TRUST_PROXY: 'true' }).trustProxy).to.equal(true);
    expect(failure(() => loadWebConfig({ NODE_ENV: 'staging' })).variable).to.equal('NODE_ENV');
    expect(failure(() => loadWebConfig({ TRANSACTIONS_URL: 'ftp://x' })).variable).to.equal('TRANSACTIONS_URL');
    expect(failure(() => loadWebConfig({ APP_COLOR: 'Blue; rm' })).variable).to.equal('APP_COLOR');
  });

  it('reports the deployed release (APP_RELEASE, the image tag) as its version, else the package version', () => {
    expect(loadWebConfig({}, '1.0.0').version).to.equal('1.0.0');
    expect(loadWebConfig({ APP_RELEASE: 'v1.2.0' }, '1.0.0').version).to.equal('v1.2.0');
    expect(loadTransactionsConfig({ APP_RELEASE: '0123abcd-dirty-20261205' }, '1.0.0').version).to.equal(
      '0123abcd-dirty-20261205',
    );
    expect(failure(() => loadWebConfig({ APP_RELEASE: 'v1 <script>' })).variable).to.equal('APP_RELEASE');
  });
});
