import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  csrfFrom,
  primaryAccountOf,
  startStack,
  submitLogin,
  submitRegistration,
  uniqueName as unique,
  webReplica,
  type Stack,
} from '../../helpers/fixtures.js';

const count = async (query: Promise<Array<{ n: number | string }>>) => Number((await query)[0]?.n ?? 0);

/** Rate limits on what writes: registrations per address, transfers and account openings per session and per user. */
describeEachDatabase('rate limits on writes', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  it('lets one address register 3 users out of 8 at once, the others get a French 429 page with Retry-After', async () => {
    const replica = webReplica(stack, url(), { REGISTER_MAX_PER_IP: '3' });
    try {
      const users = () => count(db()('users').count({ n: '*' }));
      const before = await users();
      const names = Array.from({ length: 8 }, () => unique('flood'));
      const answers = await Promise.all(
        names.map((name) => submitRegistration(request.agent(replica.web.callback()), name, 'longenough1')),
      );
      expect(answers.filter((a) => a.status === 302)).to.have.length(3);
      const refused = answers.filter((a) => a.status === 429);
      expect(refused).to.have.length(5);
      for (const res of refused) {
        expect(Number(res.headers['retry-after'])).to.be.within(3000, 3600);
        expect(res.text).to.contain('Trop d’inscriptions depuis votre adresse. Réessayez dans 60 min.');
      }
      // The form is refilled with the name typed.
      const i = answers.findIndex((a) => a.status === 429);
      expect(answers[i]?.text).to.contain(`value="${names[i]}"`);
      expect(await users()).to.equal(before + 3);
    } finally {
      await replica.close();
    }
  });

  async function transferForm(agent: ReturnType<typeof request.agent>) {
    const page = await agent.get('/transfer').expect(200);
    return {
      _csrf: csrfFrom(page.text),
      idempotencyKey: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '',
    };
  }

  it('refuses the transfer over the per-session and per-user limits with a 429 form, moving nothing', async () => {
    const replica = webReplica(stack, url(), { TRANSFER_MAX_PER_SESSION: '2', TRANSFER_MAX_PER_USER: '3' });
    try {
      const from = await primaryAccountOf(db(), 'alice');
      const send = async (agent: ReturnType<typeof request.agent>, amount: string) =>
        agent
          .post('/transfer')
          .type('form')
          .send({ ...(await transferForm(agent)), fromAccount: from, to: 'bob', amount, label: 'Limite' });
      const first = request.agent(replica.web.callback());
      expect((await submitLogin(first, 'alice', 'password123')).status).to.equal(302);
      expect((await send(first, '1.00')).status).to.equal(303);
      expect((await send(first, '1.00')).status).to.equal(303);
      const transfers = () => count(db()('transfers').count({ n: '*' }));
      const before = await transfers();
      const perSession = await send(first, '7.77');
      expect(perSession.status).to.equal(429);
      expect(Number(perSession.headers['retry-after'])).to.be.within(1, 60);
      expect(perSession.text).to.contain('Trop de virements en peu de temps. Réessayez dans ');
      expect(perSession.text).to.contain('value="7.77"').and.contain('value="Limite"');
      // A second session of the same user has its own 2, but the user only 3 in all.
      const second = request.agent(replica.web.callback());
      expect((await submitLogin(second, 'alice', 'password123')).status).to.equal(302);
      expect((await send(second, '1.00')).status).to.equal(303);
      expect((await send(second, '1.00')).status, 'the user’s fourth').to.equal(429);
      expect(await transfers()).to.equal(before + 1);
    } finally {
      await replica.close();
    }
  });

  it('refuses the account opening over the per-session limit with a 429 form, opening nothing', async () => {
    const replica = webReplica(stack, url(), { ACCOUNT_OPENING_MAX_PER_SESSION: '1' });
    try {
      const agent = request.agent(replica.web.callback());
      expect((await submitLogin(agent, 'charlie', 'password123')).status).to.equal(302);
      const open = async () => {
        const page = await agent.get('/create_account').expect(200);
        return agent
          .post('/create_account')
          .type('form')
          .send({ currency: 'USD', _csrf: csrfFrom(page.text) });
      };
      expect((await open()).status).to.equal(303);
      const accounts = () => count(db()('accounts').count({ n: '*' }));
      const before = await accounts();
      const refused = await open();
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers['retry-after'])).to.be.within(3000, 3600);
      expect(refused.text).to.contain('Trop d’ouvertures de compte en peu de temps. Réessayez dans 60 min.');
      expect(refused.text).to.match(/<option value="USD"\s+selected/);
      expect(await accounts()).to.equal(before);
    } finally {
      await replica.close();
    }
  });
});
