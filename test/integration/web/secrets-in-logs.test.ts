import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { pino } from 'pino';
import request from 'supertest';
import { createApp as createWebApp, createHasher } from '#web/app.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { csrfFrom, startStack, submitLogin, type Stack } from '../../helpers/fixtures.js';

/** What the web service logged, line by line, at every level. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/** Makes a table unreachable for a moment, as a broken schema or a database blip would. */
async function withoutTable(db: Knex, table: string, work: () => Promise<void>): Promise<void> {
  await db.schema.renameTable(table, `${table}_away`);
  try {
    await work();
  } finally {
    await db.schema.renameTable(`${table}_away`, table);
  }
}

// scrypt-kdf's hashes start with "scrypt", base64 "c2NyeXB0": any password hash in a log shows it.
const PASSWORD_HASH = /c2NyeXB0/;

describeEachDatabase('nothing secret in the logs', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  it('logs no session id, password hash, typed password or typed username when session and user queries fail', async () => {
    const { logger, lines } = capturingLogger();
    const web = createWebApp({ config: stack.webConfig, db: db(), logger, hasher: createHasher(stack.webConfig) });
    const agent = request.agent(web.callback());
    const login = await submitLogin(agent, 'bob', 'password123');
    expect(login.status).to.equal(302);
    const cookie = (login.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('bank.sid='));
    const sessionId = /^bank\.sid=([^;]+)/.exec(cookie ?? '')?.[1] ?? '';
    expect(sessionId).to.have.length.greaterThan(20);

    // A session query that fails: the session id is its bound value.
    await withoutTable(db(), 'sessions', async () => {
      const res = await agent.get('/dashboard');
      expect(res.status).to.be.oneOf([500, 503]);
    });
    // A user insert that fails: the password hash is its bound value.
    const typedPassword = 'Tr0ub4dor&3-typed';
    await withoutTable(db(), 'users', async () => {
      const anonymous = request.agent(web.callback());
      const form = await anonymous.get('/register').expect(200);
      const res = await anonymous
        .post('/register')
        .type('form')
        .send({ username: 'newcomer', password: typedPassword, _csrf: csrfFrom(form.text) });
      expect(res.status).to.be.oneOf([500, 503]);
    });
    // A failed login whose "username" is a password typed in the wrong field.
    const typedAsName = 'MyPassw0rd-in-the-name';
    const failed = await submitLogin(request.agent(web.callback()), typedAsName, 'wrong-password');
    expect(failed.status).to.equal(401);

    const failures = lines.filter((l) => /"level":(50|60)/.test(l));
    expect(failures.length, 'the two failures were logged').to.be.at.least(2);
    expect(lines.some((l) => l.includes('"msg":"login failed"') && /"usernameDigest":"[0-9a-f]{16}"/.test(l))).to.equal(
      true,
    );
    for (const line of lines) {
      expect(line, 'session id').to.not.contain(sessionId);
      expect(line, 'password hash').to.not.match(PASSWORD_HASH);
      expect(line, 'typed password').to.not.contain(typedPassword).and.not.contain('wrong-password');
      expect(line, 'typed username').to.not.contain(typedAsName);
    }
  });
});
