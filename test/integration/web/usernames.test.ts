import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  balanceOf,
  csrfFrom,
  primaryAccountOf,
  startStack,
  submitRegistration,
  submitLogin,
  uniqueName as unique,
  type Agent,
  type Stack,
} from '../../helpers/fixtures.js';

/** One identity per name, whatever its case: registration, login and transfers to a username. */
describeEachDatabase('usernames are one identity whatever their case', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  const register = (username: string, password = 'longenough1') =>
    submitRegistration(request.agent(stack.web.callback()), username, password);

  const primaryOf = (username: string) => primaryAccountOf(db(), username);

  it('refuses `Alice` after `alice` with 409, and writes no user', async () => {
    const before = await db()('users').count<{ n: number }[]>({ n: '*' });
    for (const twin of ['Alice', 'ALICE', 'aLiCe']) {
      const res = await register(twin);
      expect(res.status, twin).to.equal(409);
      expect(res.text).to.contain('Ce nom d’utilisateur est déjà pris.');
    }
    const after = await db()('users').count<{ n: number }[]>({ n: '*' });
    expect(Number(after[0]?.n)).to.equal(Number(before[0]?.n));
  });

  it('lets only one of two simultaneous registrations of one name in different cases through', async () => {
    const name = unique('twin');
    const [lower, upper] = await Promise.all([register(name), register(name.toUpperCase())]);
    expect([lower.status, upper.status].sort()).to.deep.equal([302, 409]);
    const rows = await db()('users').whereRaw('lower(username) = ?', [name.toLowerCase()]);
    expect(rows).to.have.length(1);
  });

  it('logs `ALICE` in as alice', async () => {
    const agent: Agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'ALICE', 'password123')).status).to.equal(302);
    const dashboard = await agent.get('/dashboard').expect(200);
    expect(dashboard.text).to.contain('alice');
  });

  it('sends a transfer to `ALICE` to alice', async () => {
    const agent: Agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'bob', 'password123')).status).to.equal(302);
    const alice = await primaryOf('alice');
    const before = Number(await balanceOf(db(), alice));
    const page = await agent.get('/transfer').expect(200);
    const res = await agent
      .post('/transfer')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        idempotencyKey: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '',
        fromAccount: await primaryOf('bob'),
        to: 'ALICE',
        amount: '3.21',
        label: 'Casse',
      });
    expect(res.status).to.equal(303);
    const done = await agent.get(res.headers.location as string).expect(200);
    expect(done.text).to.contain('envoyé à ALICE');
    expect(Number(await balanceOf(db(), alice)) - before).to.be.closeTo(3.21, 0.001);
  });
});
