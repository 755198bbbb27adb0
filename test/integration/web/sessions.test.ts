import { expect } from 'chai';
import request from 'supertest';
import { startHousekeeping, purgeExpired } from '#web/housekeeping.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { csrfFrom, silentLogger, startStack, submitLogin, type Stack } from '../../helpers/fixtures.js';

async function sessionRows(db: () => import('knex').Knex): Promise<number> {
  const [row] = await db()('sessions').count<{ n: number | string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

/** Sessions only when needed: anonymous pages write no row, expired rows are purged on a schedule. */
describeEachDatabase('sessions only when needed', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  it('writes no session row for 500 anonymous GET /login (and /register), each with a CSRF cookie', async () => {
    const before = await sessionRows(db);
    for (let batch = 0; batch < 10; batch += 1) {
      const pages = await Promise.all(
        Array.from({ length: 50 }, (_, i) => request(stack.web.callback()).get(i % 5 === 0 ? '/register' : '/login')),
      );
      for (const page of pages) {
        expect(page.status).to.equal(200);
        expect(String(page.headers['set-cookie'])).to.match(/bank\.csrf=[^;]+; path=\/; samesite=lax; httponly/);
        expect(String(page.headers['set-cookie'])).to.not.contain('bank.sid');
      }
    }
    expect((await sessionRows(db)) - before).to.equal(0);
  });

  it('logs in with the cookie-bound token; the session row appears only then', async () => {
    const before = await sessionRows(db);
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'alice', 'password123')).status).to.equal(302);
    await agent.get('/dashboard').expect(200);
    expect((await sessionRows(db)) - before).to.equal(1);
  });

  it('refuses a missing token, a forged one, another visitor’s, and one without its cookie', async () => {
    const mine = request.agent(stack.web.callback());
    const myToken = csrfFrom((await mine.get('/login')).text);
    const theirs = csrfFrom((await request.agent(stack.web.callback()).get('/login')).text);
    const send = (agent: typeof mine, csrf?: string) =>
      agent
        .post('/login')
        .type('form')
        .send({ username: 'alice', password: 'password123', ...(csrf === undefined ? {} : { _csrf: csrf }) });
    for (const [what, answer] of [
      ['missing', await send(mine)],
      ['forged', await send(mine, 'x'.repeat(43))],
      ['another visitor’s', await send(mine, theirs)],
      ['without its cookie', await send(request.agent(stack.web.callback()), myToken)],
    ] as const) {
      expect(answer.status, what).to.equal(403);
      expect(answer.text).to.contain('Le formulaire a expiré');
    }
    expect((await send(mine, myToken)).status, 'the genuine token').to.equal(302);
  });

  it('refuses, once logged in, a form signed for the anonymous cookie (the session token rules)', async () => {
    const agent = request.agent(stack.web.callback());
    const anonymousToken = csrfFrom((await agent.get('/login')).text);
    expect((await submitLogin(agent, 'bob', 'password123')).status).to.equal(302);
    const res = await agent.post('/logout').type('form').send({ _csrf: anonymousToken });
    expect(res.status).to.equal(403);
  });

  it('purges expired sessions (and ended login counters), keeping live ones', async () => {
    const now = Date.now();
    await db()('sessions').insert([
      { id: 'expired-session-1', data: '{}', expires_at: now - 1 },
      { id: 'live-session-1', data: '{}', expires_at: now + 60_000 },
    ]);
    const purged = await purgeExpired(db(), now);
    expect(purged.sessions).to.be.at.least(1);
    expect(await db()('sessions').where({ id: 'expired-session-1' }).first()).to.equal(undefined);
    expect(await db()('sessions').where({ id: 'live-session-1' }).first()).to.not.equal(undefined);
  });

  it('purges on a schedule, and stops with the service', async () => {
    await db()('sessions').insert({ id: 'expired-session-2', data: '{}', expires_at: Date.now() - 1 });
    const housekeeping = startHousekeeping(db(), silentLogger, 20);
    try {
      for (let i = 0; i < 100; i += 1) {
        if (!(await db()('sessions').where({ id: 'expired-session-2' }).first())) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await housekeeping.stop();
    }
    expect(await db()('sessions').where({ id: 'expired-session-2' }).first()).to.equal(undefined);
  });
});
