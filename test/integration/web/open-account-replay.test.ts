import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import { csrfFrom, startStack, submitLogin, type Stack } from '../../helpers/fixtures.js';

/** The account-opening form carries an idempotency key: submitting it twice opens one account. */
describeEachDatabase('web service: opening an account twice from one form', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  it('opens one account when the same rendered form is submitted twice', async () => {
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'bob', 'password123')).status).to.equal(302);
    const bob = await db()('users').where({ username: 'bob' }).first<{ id: number }>('id');
    const count = async () =>
      Number((await db()('accounts').where({ user_id: bob.id }).count<{ n: unknown }[]>({ n: '*' }))[0]?.n);
    const before = await count();
    const page = await agent.get('/create_account').expect(200);
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1];
    expect(key, 'the form carries a key').to.be.a('string');
    const form = { currency: 'USD', idempotencyKey: key, _csrf: csrfFrom(page.text) };
    const first = await agent.post('/create_account').type('form').send(form);
    const second = await agent.post('/create_account').type('form').send(form);
    expect(first.status).to.be.lessThan(400);
    expect(second.status).to.be.lessThan(400);
    expect(await count()).to.equal(before + 1);
    const again = await agent.get('/create_account').expect(200);
    expect(/name="idempotencyKey" value="([^"]+)"/.exec(again.text)?.[1], 'a fresh key per form').not.to.equal(key);
  });
});
