import { expect } from 'chai';
import { DEV_SIGNING_SECRET } from '#shared/config.js';
import { loadTransactionsConfig } from '#transactions/config.js';
import { DEV_SECRET_KEY, loadWebConfig } from '#web/config.js';
// @ts-expect-error: a plain ES module of scripts/ without type declarations
import { localEnvironments as untyped } from '../../scripts/start-local-env.mjs';

type ChildEnv = Record<string, string | undefined>;
const localEnvironments = untyped as (env: ChildEnv) => { job: ChildEnv; transactions: ChildEnv; web: ChildEnv };

/**
 * `npm start` must not run with the public development secrets: each run draws its own signing
 * secret (the same for both services) and session key, and the services' configs accept them.
 */
describe('npm start: the environment of the processes it starts', function () {
  it('gives both services one fresh random signing secret per run, and the web a random SECRET_KEY', function () {
    const first = localEnvironments({});
    const second = localEnvironments({});
    for (const run of [first, second]) {
      const transactions = loadTransactionsConfig(run.transactions);
      const web = loadWebConfig(run.web);
      expect(transactions.signing.secret).to.equal(web.signing.secret);
      expect(web.signing.secret).not.to.equal(DEV_SIGNING_SECRET);
      expect(web.signing.secret).to.have.length.of.at.least(32);
      expect(web.secretKey).not.to.equal(DEV_SECRET_KEY);
      expect(web.secretKey).to.have.length.of.at.least(32);
      expect(web.transactionsUrl).to.equal('http://127.0.0.1:5100');
    }
    expect(first.web.SERVICE_SIGNING_SECRET).not.to.equal(second.web.SERVICE_SIGNING_SECRET);
    expect(first.web.SECRET_KEY).not.to.equal(second.web.SECRET_KEY);
  });

  it('keeps secrets and ports the developer set', function () {
    const env = localEnvironments({
      SERVICE_SIGNING_SECRET: 's'.repeat(40),
      SECRET_KEY: 'k'.repeat(40),
      PORT: '6201',
      TRANSACTIONS_PORT: '6202',
    });
    expect(env.transactions.SERVICE_SIGNING_SECRET).to.equal('s'.repeat(40));
    expect(env.web.SERVICE_SIGNING_SECRET).to.equal('s'.repeat(40));
    expect(env.web.SECRET_KEY).to.equal('k'.repeat(40));
    expect(loadWebConfig(env.web).port).to.equal(6201);
    expect(loadWebConfig(env.web).transactionsUrl).to.equal('http://127.0.0.1:6202');
    expect(loadTransactionsConfig(env.transactions).port).to.equal(6202);
  });

  it('refuses the public development signing secret in production, in both services', function () {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://bank:pw@db:5432/bankdb',
      SECRET_KEY: 'x'.repeat(40),
      SERVICE_SIGNING_SECRET: DEV_SIGNING_SECRET,
    };
    expect(() => loadTransactionsConfig(production)).to.throw(/SERVICE_SIGNING_SECRET/);
    expect(() => loadWebConfig(production)).to.throw(/SERVICE_SIGNING_SECRET/);
  });
});
