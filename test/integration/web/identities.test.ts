import { expect } from 'chai';
import request from 'supertest';
import { ALL_MIGRATIONS } from '#jobs/migrate.js';
import { migrationSource } from '#shared/migrations/runner.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  balanceOf,
  csrfFrom,
  makeUser,
  migrate,
  primaryAccountOf,
  startStack,
  submitLogin,
  submitRegistration,
  type Stack,
} from '../../helpers/fixtures.js';

/** Identities that cannot be confused: no username with an account number's shape, no reserved name. */
describeEachDatabase('identities that cannot be confused', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  const userCount = async () => Number((await db()('users').count<{ n: number }[]>({ n: '*' }))[0]?.n);

  it('refuses a username shaped like an account number or reserved, with the form refilled, writing no user', async () => {
    const before = await userCount();
    const shapes = ['FT5555555555', 'ft5555555555', 'FT-5555-555-555', 'Ft.5555_555.555', 'FT12'];
    for (const username of shapes) {
      const res = await submitRegistration(request.agent(stack.web.callback()), username, 'longenough1');
      expect(res.status, username).to.equal(422);
      expect(res.text, username).to.contain('ressemble à un numéro de compte');
      expect(res.text, username).to.contain(`value="${username}"`);
    }
    for (const username of ['Banque', 'BANK', 'ban-que', 'Admin', 'system', 'Support.']) {
      const res = await submitRegistration(request.agent(stack.web.callback()), username, 'longenough1');
      expect(res.status, username).to.equal(422);
      expect(res.text, username).to.contain('est réservé à la banque');
    }
    expect(await userCount()).to.equal(before);
  });

  it('reads an account-number shape only as an account number: a squatter is never paid', async () => {
    // A squatter registered before the rule (inserted directly, as the old release allowed).
    const squatter = await makeUser(db(), 'squat');
    await db()('users').where({ id: squatter.id }).update({ username: 'FT5555555555', username_key: 'ft5555555555' });
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, 'alice', 'password123')).status).to.equal(302);
    const alice = await primaryAccountOf(db(), 'alice');
    const aliceBefore = await balanceOf(db(), alice);
    for (const to of ['FT 5555 555 555', 'FT5555555555', 'ft-5555-555-555']) {
      const page = await agent.get('/transfer').expect(200);
      const res = await agent
        .post('/transfer')
        .type('form')
        .send({
          _csrf: csrfFrom(page.text),
          idempotencyKey: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '',
          fromAccount: alice,
          to,
          amount: '5.00',
          label: 'Loyer',
        });
      expect(res.status, to).to.equal(404);
      expect(res.text.match(/Destinataire[^<]*/)?.[0].replace(/\s/g, ' '), to).to.equal(
        'Destinataire inconnu : aucun compte FT5555555555.',
      );
      expect(res.text, to).to.contain(`value="${to}"`);
    }
    expect(await balanceOf(db(), squatter.primary)).to.equal('0.00');
    expect(await balanceOf(db(), alice)).to.equal(aliceBefore);
  });
});

/** The migration lists the names registered before the rule that break it; it renames nobody. */
describeEachDatabase('the username review migration', ({ db }) => {
  before(async () => {
    const older = ALL_MIGRATIONS.filter(([name]) => name < '20261205000100_username_reviews');
    await db().migrate.latest({ migrationSource: migrationSource(older) });
    for (const [username, isAdmin] of [
      ['alice', false],
      ['FT5555555555', false],
      ['Banque', false],
      ['admin', true],
      ['ft-1234', false],
    ] as const) {
      await db()('users').insert({
        username,
        username_key: username.toLowerCase(),
        password_hash: 'x',
        is_admin: isAdmin,
      });
    }
    await migrate(db());
  });

  it('lists each offending username once with the rule it breaks, and leaves the names as they were', async () => {
    const rows = await db()('username_reviews').orderBy('id').select('username', 'rule_broken');
    expect(rows.map((r: { username: string; rule_broken: string }) => [r.username, r.rule_broken])).to.deep.equal([
      ['FT5555555555', 'account_number_shape'],
      ['Banque', 'reserved'],
      ['ft-1234', 'account_number_shape'],
    ]);
    const names = (await db()('users').orderBy('id').select('username')).map((r: { username: string }) => r.username);
    expect(names).to.deep.equal(['alice', 'FT5555555555', 'Banque', 'admin', 'ft-1234']);
  });
});
