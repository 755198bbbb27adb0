import { expect } from 'chai';
import request from 'supertest';
import { MAX_PAGE } from '#shared/contract/api.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  balanceOf,
  csrfFrom,
  fund,
  startStack,
  submitLogin,
  uniqueName as unique,
  type Agent,
  type Stack,
  type TestUser,
} from '../../helpers/fixtures.js';

const NBSP = '\u00a0';

/**
 * The money pages as a user drives them: the real web app (supertest) calling the real
 * transactions service over signed HTTP, on each database.
 */
describeEachDatabase('web money pages', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  async function loggedIn(username: string, password = 'password123'): Promise<Agent> {
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, username, password)).status).to.equal(302);
    return agent;
  }

  /** A new user registered through the form, logged in, with their primary account number. */
  async function newCustomer(): Promise<{ agent: Agent; user: TestUser }> {
    const username = unique('client');
    const anonymous = request.agent(stack.web.callback());
    const form = await anonymous.get('/register');
    await anonymous
      .post('/register')
      .type('form')
      .send({ username, password: 'longenough1', _csrf: csrfFrom(form.text) })
      .expect(302);
    const row = await db()('users as u')
      .join('accounts as a', 'a.user_id', 'u.id')
      .where({ 'u.username': username, 'a.kind': 'primary' })
      .first<{ id: number; number: string }>('u.id', 'a.number');
    return {
      agent: await loggedIn(username, 'longenough1'),
      user: { id: Number(row.id), username, isAdmin: false, primary: row.number },
    };
  }

  async function primaryOf(username: string): Promise<string> {
    const row = await db()('accounts as a')
      .join('users as u', 'u.id', 'a.user_id')
      .where({ 'u.username': username, 'a.kind': 'primary' })
      .first<{ number: string }>('a.number');
    return row.number;
  }

  async function admin(): Promise<TestUser> {
    const row = await db()('users').where({ username: 'admin' }).first<{ id: number }>('id');
    return { id: Number(row.id), username: 'admin', isAdmin: true, primary: '' };
  }

  async function submitTransfer(agent: Agent, fields: Record<string, string>) {
    const page = await agent.get('/transfer').expect(200);
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const body = { _csrf: csrfFrom(page.text), idempotencyKey: key, label: '', ...fields };
    return { key, body, response: await agent.post('/transfer').type('form').send(body) };
  }

  describe('transfer', () => {
    it('moves money to bob, redirects (303) to a one-time confirmation, and a double submit moves it once', async () => {
      const { agent, user } = await newCustomer();
      await fund(db(), await admin(), user.primary, '50.00');
      const bobNumber = await primaryOf('bob');
      const bobBefore = await balanceOf(db(), bobNumber);
      const { body, response } = await submitTransfer(agent, {
        fromAccount: user.primary,
        to: 'bob',
        amount: '12,34',
        label: 'Loyer',
      });
      expect(response.status).to.equal(303);
      expect(response.headers.location).to.equal('/transfer');
      const confirmed = await agent.get('/transfer').expect(200);
      expect(confirmed.text).to.contain(`Virement de 12,34${NBSP}€ envoyé à bob.`);
      const reference = /TRX-[0-9A-F]{12}/.exec(confirmed.text)?.[0];
      expect(reference).to.be.a('string');
      const reloaded = await agent.get('/transfer').expect(200);
      expect(reloaded.text, 'the confirmation is shown once').to.not.contain('envoyé à bob');

      const again = await agent.post('/transfer').type('form').send(body);
      expect(again.status).to.equal(303);
      const replayed = await agent.get('/transfer').expect(200);
      expect(replayed.text).to.contain(reference);
      expect(await balanceOf(db(), user.primary)).to.equal('37.66');
      expect(Number(await balanceOf(db(), bobNumber)) - Number(bobBefore)).to.be.closeTo(12.34, 0.001);
      const dashboard = await agent.get('/dashboard').expect(200);
      expect(dashboard.text).to.contain('37,66').and.contain('Loyer');
    });

    it('accepts 12.34 and a grouped 1 000,5 exactly, as typed by a French user', async () => {
      const { agent, user } = await newCustomer();
      await fund(db(), await admin(), user.primary, '2000.00');
      const point = await submitTransfer(agent, { fromAccount: user.primary, to: 'bob', amount: '12.34' });
      expect(point.response.status).to.equal(303);
      const grouped = await submitTransfer(agent, { fromAccount: user.primary, to: 'bob', amount: `1${NBSP}000,5` });
      expect(grouped.response.status).to.equal(303);
      expect(await balanceOf(db(), user.primary)).to.equal('987.16');
    });

    it('shows a refusal on the form, with the reason, and moves nothing', async () => {
      const { agent, user } = await newCustomer();
      const poor = await submitTransfer(agent, { fromAccount: user.primary, to: 'bob', amount: '1.00' });
      expect(poor.response.status).to.equal(422);
      expect(poor.response.text).to.contain('Virement refusé').and.contain('Solde insuffisant');
      const nobody = await submitTransfer(agent, { fromAccount: user.primary, to: unique('nobody'), amount: '1.00' });
      expect(nobody.response.status).to.equal(404);
      expect(nobody.response.text).to.contain('Destinataire inconnu');
      const bad = await submitTransfer(agent, {
        fromAccount: user.primary,
        to: 'bob',
        amount: '12,345',
        label: 'Loyer',
      });
      expect(bad.response.status).to.equal(422);
      expect(bad.response.text).to.contain('Montant invalide').and.contain('par exemple 12,34');
      // What was typed stays in the form.
      expect(bad.response.text).to.contain('value="12,345"').and.contain('value="Loyer"');
      for (const amount of ['abc', '0,00', '1e3', '-5', '1000000,01']) {
        const refused = await submitTransfer(agent, { fromAccount: user.primary, to: 'bob', amount });
        expect(refused.response.status, amount).to.equal(422);
        expect(refused.response.text, amount).to.match(/[Mm]ontant/);
      }
      // The corrected form gets a fresh key.
      expect(/name="idempotencyKey" value="([^"]+)"/.exec(bad.response.text)?.[1]).to.not.equal(bad.key);
      expect(await balanceOf(db(), user.primary)).to.equal('0.00');
    });

    it('sends an anonymous visitor to the login page', async () => {
      const res = await request(stack.web.callback()).get('/transfer').expect(302);
      expect(res.headers.location).to.equal('/login');
    });
  });

  describe('history', () => {
    it('pages an account’s movements newest first and filters by account', async () => {
      const { agent, user } = await newCustomer();
      const bank = await admin();
      for (let i = 1; i <= 23; i += 1) await fund(db(), bank, user.primary, `${i}.00`);
      const page1 = await agent.get('/transactions').expect(200);
      expect(page1.text.match(/<tr>\s*<td data-label="Date">/g)).to.have.length(20);
      expect(page1.text).to.contain('+23,00').and.not.contain('+3,00');
      expect(page1.text).to.contain('/transactions?page=2');
      const page2 = await agent.get(`/transactions?account=${user.primary}&page=2`).expect(200);
      expect(page2.text.match(/<tr>\s*<td data-label="Date">/g)).to.have.length(3);
      expect(page2.text).to.contain('rel="prev"');
      // Past the end, past the contract's last page, or a number no page has: an empty page with a
      // link back to the first, never a 400 page.
      for (const page of ['3', String(MAX_PAGE), String(MAX_PAGE + 1), '200000', '99999999999999999999']) {
        const past = await agent.get(`/transactions?account=${user.primary}&page=${page}`).expect(200);
        expect(past.text, page).to.not.contain('<td data-label="Date">');
        expect(past.text, page).to.contain('au-delà de la fin de la liste');
        expect(past.text, page).to.contain(`href="/transactions?account=${user.primary}&amp;page=1" rel="first"`);
        expect(past.text, page).to.not.contain('rel="next"');
      }

      const opened = await agent.get('/create_account');
      await agent
        .post('/create_account')
        .type('form')
        .send({ currency: 'USD', _csrf: csrfFrom(opened.text) })
        .expect(303);
      const usd = (await db()('accounts').where({ user_id: user.id, currency: 'USD' }).first('number')).number;
      const filtered = await agent.get(`/transactions?account=${usd}`).expect(200);
      expect(filtered.text).to.contain('Aucune opération à afficher pour ce compte');
      await fund(db(), bank, usd, '7.50');
      const all = await agent.get('/transactions').expect(200);
      expect(all.text, 'Tous mes comptes is the selected filter').to.match(
        /<option value="" selected>Tous mes comptes/,
      );
      expect(all.text).to.contain(`+7,50${NBSP}$US`).and.contain(usd).and.contain(user.primary);
      const eurOnly = await agent.get(`/transactions?account=${user.primary}`).expect(200);
      expect(eurOnly.text).to.not.contain('$US');
      const notMine = await agent.get('/transactions?account=FT0000000001').expect(404);
      expect(notMine.text).to.contain('Ce compte n’existe pas ou ne vous appartient pas');
    });
  });

  describe('open account', () => {
    it('opens a USD account with a redirect and a one-time confirmation, refuses an unknown currency on the form', async () => {
      const { agent, user } = await newCustomer();
      const form = await agent.get('/create_account').expect(200);
      const csrf = csrfFrom(form.text);
      const created = await agent.post('/create_account').type('form').send({ currency: 'USD', _csrf: csrf });
      expect(created.status).to.equal(303);
      expect(created.headers.location).to.equal('/create_account');
      const usd = (await db()('accounts').where({ user_id: user.id, currency: 'USD' }).first('number')).number;
      const shown = await agent.get('/create_account').expect(200);
      expect(shown.text).to.contain('Compte USD ouvert.').and.contain(`<code class="ref">${usd}</code>`);
      expect((await agent.get('/create_account').expect(200)).text).to.not.contain('Compte USD ouvert');
      const gbp = await agent.post('/create_account').type('form').send({ currency: 'GBP', _csrf: csrf });
      expect(gbp.status).to.equal(422);
      expect(gbp.text).to.contain('Choisissez une devise proposée').and.contain('<form method="post"');
    });

    it('refuses the 11th account with a message on the form, not an error page', async () => {
      const { agent, user } = await newCustomer();
      const csrf = csrfFrom((await agent.get('/create_account')).text);
      for (let i = 0; i < 9; i += 1) {
        await agent.post('/create_account').type('form').send({ currency: 'EUR', _csrf: csrf }).expect(303);
      }
      const eleventh = await agent.post('/create_account').type('form').send({ currency: 'USD', _csrf: csrf });
      expect(eleventh.status).to.equal(422);
      expect(eleventh.text).to.contain('c’est le maximum').and.contain('Veuillez corriger');
      expect(eleventh.text, 'the form and the account list are still there')
        .to.contain('<form method="post" action="/create_account"')
        .and.contain('<option value="USD" selected>')
        .and.contain(user.primary);
      expect(Number((await db()('accounts').where({ user_id: user.id }).count({ n: '*' }))[0]?.n)).to.equal(10);
    });
  });

  describe('accounting', () => {
    it('is refused to a customer (403) and shows a balanced trial balance and the journal to the admin', async () => {
      const customer = await loggedIn('alice');
      const refused = await customer.get('/accounting');
      expect(refused.status).to.equal(403);
      expect(refused.text).to.contain('réservée à l’administrateur');
      const adminAgent = await loggedIn('admin');
      const page = await adminAgent.get('/accounting').expect(200);
      expect(page.text).to.contain('Balance équilibrée').and.contain('FT0000000001').and.contain('Journal');
      await adminAgent.get('/accounting?page=2').expect(200);
      const past = await adminAgent.get('/accounting?page=200000').expect(200);
      expect(past.text).to.contain('au-delà de la fin de la liste').and.contain('href="/accounting?page=1"');
    });
  });
});

describeEachDatabase('registration while the transactions service is down', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  it('answers 503 and leaves no user behind without an account', async () => {
    const agent = request.agent(stack.web.callback());
    const form = await agent.get('/register');
    await stack.stopTransactions();
    const username = `orphan_${Date.now().toString(36)}`;
    const res = await agent
      .post('/register')
      .type('form')
      .send({ username, password: 'longenough1', _csrf: csrfFrom(form.text) });
    expect(res.status).to.equal(503);
    expect(res.text).to.contain('momentanément indisponible');
    expect(await db()('users').where({ username }).first()).to.equal(undefined);
  });
});
