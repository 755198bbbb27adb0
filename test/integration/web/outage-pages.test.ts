import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import { csrfFrom, startStack, submitLogin, type Agent, type Stack } from '../../helpers/fixtures.js';

const BANNER = 'Service des comptes temporairement indisponible, réessayez dans quelques instants.';
/** What a page must never claim while it cannot read the accounts. */
const INVENTED = ['Aucun compte pour le moment', 'aucun compte à débiter', 'Aucune opération', 'Veuillez corriger'];

/**
 * With the transactions service stopped, every money page says so in one banner, answers 503
 * with Retry-After, invents nothing about the accounts and disables its forms; the pages come
 * back by themselves once the service is up again (see test/browser for the restart).
 */
describeEachDatabase('web pages while the transactions service is down', ({ db, url }) => {
  let stack: Stack;
  let alice: Agent;
  let admin: Agent;

  async function loggedIn(username: string): Promise<Agent> {
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, username, 'password123')).status).to.equal(302);
    return agent;
  }

  before(async () => {
    stack = await startStack(db(), url());
    alice = await loggedIn('alice');
    admin = await loggedIn('admin');
    await stack.stopTransactions();
  });
  after(() => stack.close());

  function expectHonestOutage(res: request.Response, where: string): void {
    expect(res.status, where).to.equal(503);
    expect(res.headers['retry-after'], where).to.equal('5');
    expect(res.text.split(BANNER).length - 1, `one banner on ${where}`).to.equal(1);
    for (const claim of INVENTED) expect(res.text, where).to.not.contain(claim);
  }

  for (const path of ['/dashboard', '/transfer', '/transactions', '/create_account']) {
    it(`GET ${path}: the banner, a 503, nothing invented`, async () => {
      const res = await alice.get(path);
      expectHonestOutage(res, path);
    });
  }

  it('the dashboard shows no balance rather than a blank one', async () => {
    const res = await alice.get('/dashboard');
    expect(res.text)
      .to.match(/<p class="balance-value">—<\/p>/)
      .and.contain('Solde indisponible');
    expect(res.text).to.not.match(/balance-value">\s*(EUR|€)?\s*</);
  });

  it('the transfer and account forms are disabled, with the reason', async () => {
    const transfer = await alice.get('/transfer');
    expect(transfer.text).to.contain('<fieldset class="form-fieldset" disabled aria-describedby="transfer-disabled">');
    expect(transfer.text).to.contain('Les virements sont suspendus');
    const open = await alice.get('/create_account');
    expect(open.text).to.contain('<fieldset class="form-fieldset" disabled aria-describedby="create-disabled">');
    const history = await alice.get('/transactions');
    expect(history.text).to.contain('<fieldset class="form-fieldset filter-fields" disabled>');
  });

  it('a transfer sent during the outage comes back on the form with what was typed and the same key', async () => {
    const form = await alice.get('/transfer');
    const res = await alice
      .post('/transfer')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        idempotencyKey: 'outage-key-0001',
        fromAccount: 'FT0000000002',
        to: 'bob',
        amount: '12,34',
        label: 'Pendant la panne',
      });
    expectHonestOutage(res, 'POST /transfer');
    expect(res.text)
      .to.contain('value="12,34"')
      .and.contain('value="Pendant la panne"')
      .and.contain('value="outage-key-0001"');
  });

  it('an account opening sent during the outage says so', async () => {
    const form = await alice.get('/create_account');
    const res = await alice
      .post('/create_account')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), currency: 'USD' });
    expectHonestOutage(res, 'POST /create_account');
    expect(res.text).to.contain('<option value="USD" selected>');
  });

  it('admin accounting: the banner and a 503 instead of an empty journal', async () => {
    const res = await admin.get('/accounting');
    expectHonestOutage(res, '/accounting');
    expect(res.text).to.not.contain('Le journal est vide').and.not.contain('Balance équilibrée');
  });
});
