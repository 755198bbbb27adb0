import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  csrfFrom,
  startStack,
  submitLogin,
  submitRegistration,
  uniqueName as unique,
  type Stack,
} from '../../helpers/fixtures.js';

/** The registration form's password rules and the transfer form's label rule, as a user meets them. */
describeEachDatabase('password and label rules', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  const register = (username: string, password = 'longenough1') =>
    submitRegistration(request.agent(stack.web.callback()), username, password);

  async function exists(username: string): Promise<boolean> {
    return (await db()('users').where({ username }).first()) !== undefined;
  }

  it('refuses a common password with 422 and a clear message, and creates no user', async () => {
    for (const password of ['12345678', 'password', 'Password123']) {
      const username = unique('common');
      const res = await register(username, password);
      expect(res.status, password).to.equal(422);
      expect(res.text).to.contain('Ce mot de passe fait partie des mots de passe les plus répandus');
      expect(await exists(username)).to.equal(false);
    }
  });

  it('refuses the username as password (any case) and 8 spaces with 422', async () => {
    const username = unique('Selfish');
    const same = await register(username, username.toLowerCase());
    expect(same.status).to.equal(422);
    expect(same.text).to.contain('Le mot de passe ne doit pas être votre nom d’utilisateur.');
    const spaces = await register(unique('spacey'), ' '.repeat(8));
    expect(spaces.status).to.equal(422);
    expect(spaces.text).to.contain('uniquement d’espaces');
  });

  it('accepts `Test123!` (the k6 scenario’s password), which then logs in', async () => {
    const username = unique('k6');
    expect((await register(username, 'Test123!')).status).to.equal(302);
    expect((await submitLogin(request.agent(stack.web.callback()), username, 'Test123!')).status).to.equal(302);
  });

  it('refuses a transfer label with U+202E or U+200B with 422 and a clear message, moving nothing', async () => {
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'alice', 'password123')).status).to.equal(302);
    const alice = await db()('accounts as a')
      .join('users as u', 'u.id', 'a.user_id')
      .where({ 'u.username': 'alice', 'a.kind': 'primary' })
      .first<{ number: string; balance: number | string }>('a.number', 'a.balance');
    for (const [label, codePoint] of [
      ['Loyer \u202Eerèm', 'U+202E'],
      ['Lo\u200Byer', 'U+200B'],
    ] as const) {
      const page = await agent.get('/transfer').expect(200);
      const res = await agent
        .post('/transfer')
        .type('form')
        .send({
          _csrf: csrfFrom(page.text),
          idempotencyKey: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '',
          fromAccount: alice.number,
          to: 'bob',
          amount: '1.00',
          label,
        });
      expect(res.status, codePoint).to.equal(422);
      expect(res.text).to.contain(`Le libellé contient un caractère de contrôle ou invisible (${codePoint})`);
    }
    const after = await db()('accounts').where({ number: alice.number }).first<{ balance: number | string }>('balance');
    expect(Number(after.balance)).to.equal(Number(alice.balance));
  });
});
