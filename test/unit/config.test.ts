import { expect } from 'chai';
import { ConfigError, DEV_SECRET_KEY, loadConfig } from '../../services/shared/src/config.js';

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
    const config = loadConfig('web', {});
    expect(config.port).to.equal(5000);
    expect(config.databaseUrl).to.equal('sqlite:///./data/transactions.db');
    expect(config.scrypt).to.deep.equal({ logN: 15, r: 8, p: 3 });
    expect(loadConfig('transactions', {}).port).to.equal(5100);
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig('web', { ...prodEnv, APP_COLOR: 'green', PORT: '5000' });
    expect(config.nodeEnv).to.equal('production');
    expect(config.appColor).to.equal('green');
  });

  it('refuses a missing SECRET_KEY in production, naming the variable', () => {
    const err = failure(() => loadConfig('web', { ...prodEnv, SECRET_KEY: undefined }));
    expect(err.variable).to.equal('SECRET_KEY');
    expect(err.message).to.contain('SECRET_KEY');
  });

  it('refuses the development SECRET_KEY default in production', () => {
    expect(failure(() => loadConfig('web', { ...prodEnv, SECRET_KEY: DEV_SECRET_KEY })).variable).to.equal(
      'SECRET_KEY',
    );
  });

  it('refuses a short secret in production', () => {
    expect(failure(() => loadConfig('web', { ...prodEnv, SERVICE_SIGNING_SECRET: 'short' })).variable).to.equal(
      'SERVICE_SIGNING_SECRET',
    );
  });

  it('requires DATABASE_URL in production and checks its shape everywhere', () => {
    expect(failure(() => loadConfig('transactions', { ...prodEnv, DATABASE_URL: '' })).variable).to.equal(
      'DATABASE_URL',
    );
    expect(failure(() => loadConfig('web', { DATABASE_URL: 'mysql://x' })).variable).to.equal('DATABASE_URL');
  });

  it('rejects malformed numbers, booleans and enums with the variable name', () => {
    expect(failure(() => loadConfig('web', { PORT: 'abc' })).message).to.contain('PORT');
    expect(failure(() => loadConfig('web', { PORT: '70000' })).message).to.contain('PORT');
    expect(failure(() => loadConfig('web', { TRUST_PROXY: 'maybe' })).variable).to.equal('TRUST_PROXY');
    expect(failure(() => loadConfig('web', { NODE_ENV: 'staging' })).variable).to.equal('NODE_ENV');
    expect(failure(() => loadConfig('web', { TRANSACTIONS_URL: 'ftp://x' })).variable).to.equal('TRANSACTIONS_URL');
    expect(failure(() => loadConfig('web', { APP_COLOR: 'Blue; rm' })).variable).to.equal('APP_COLOR');
  });
});
