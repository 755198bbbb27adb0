import { expect } from 'chai';
import { MAX_PAGE, MAX_PAGE_SIZE } from '#shared/contract/api.js';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  balanceOf,
  fund,
  journalCount,
  makeUser,
  migrate,
  newKey,
  transactionsApp,
  type TestUser,
} from '../../helpers/fixtures.js';
import { signedClient, type SignedClient } from '../../helpers/fixtures.js';

describeEachDatabase('transactions API: accounts, transfers, history, ledger', ({ db }) => {
  let client: SignedClient;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    await migrate(db());
    client = await signedClient(transactionsApp(db()));
    admin = await makeUser(db(), 'admin', true);
  });

  beforeEach(async () => {
    alice = await makeUser(db(), 'alice');
    bob = await makeUser(db(), 'bob');
    await fund(db(), admin, alice.username, '100.00');
  });

  after(async () => {
    await client.close();
  });

  const transfer = (user: TestUser, body: Record<string, unknown>) => client.post('/api/transfers', user.id, body);

  describe('accounts', () => {
    it('lists only the user’s own accounts, primary EUR first, never settlement', async () => {
      const res = await client.get('/api/accounts', alice.id).expect(200);
      expect(res.body.accounts).to.have.length(1);
      expect(res.body.accounts[0]).to.include({
        number: alice.primary,
        currency: 'EUR',
        balance: '100.00',
        kind: 'primary',
      });
      expect(res.body.accounts[0].createdAt).to.match(/^\d{4}-\d\d-\d\dT/);
    });

    it('opens a USD account at 0 with a new unique number', async () => {
      const res = await client
        .post('/api/accounts', alice.id, { idempotencyKey: newKey(), currency: 'USD' })
        .expect(201);
      expect(res.body.account).to.include({ currency: 'USD', balance: '0.00', kind: 'current' });
      expect(res.body.account.number)
        .to.match(/^FT\d{10}$/)
        .and.not.equal(alice.primary);
      const list = await client.get('/api/accounts', alice.id).expect(200);
      expect(list.body.accounts.map((a: { number: string }) => a.number)).to.deep.equal([
        alice.primary,
        res.body.account.number,
      ]);
    });

    it('refuses an unknown currency or extra fields', async () => {
      const bad = await client
        .post('/api/accounts', alice.id, { idempotencyKey: newKey(), currency: 'GBP' })
        .expect(422);
      expect(bad.body.error.code).to.equal('invalid_currency');
      const extra = await client
        .post('/api/accounts', alice.id, { idempotencyKey: newKey(), currency: 'EUR', userId: bob.id })
        .expect(400);
      expect(extra.body.error.code).to.equal('unknown_field');
    });
  });

  describe('transfers', () => {
    it('moves money to another user by username and shows it on both sides', async () => {
      const res = await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: alice.primary,
        to: bob.username,
        amount: '12.34',
        label: 'Loyer',
      }).expect(201);
      expect(res.body.transfer).to.include({
        status: 'succeeded',
        amount: '12.34',
        currency: 'EUR',
        fromAccount: alice.primary,
        toAccount: bob.primary,
        label: 'Loyer',
      });
      expect(res.body.transfer.reference).to.match(/^TRX-[0-9A-F]{12}$/);
      expect(await balanceOf(db(), alice.primary)).to.equal('87.66');
      expect(await balanceOf(db(), bob.primary)).to.equal('12.34');

      const users = await db()('users').whereIn('id', [alice.id, bob.id]).orderBy('id').select('balance');
      expect(users.map((u: { balance: unknown }) => Number(u.balance))).to.deep.equal([8766, 1234]);

      const mine = await client.get('/api/history?pageSize=5', alice.id).expect(200);
      expect(mine.body.movements[0]).to.include({
        accountNumber: alice.primary,
        amount: '-12.34',
        currency: 'EUR',
        type: 'transfer',
        label: 'Loyer',
        counterparty: bob.username,
        reference: res.body.transfer.reference,
      });
      expect(mine.body.movements[1]).to.include({ amount: '100.00', type: 'deposit', counterparty: 'Banque' });
      const theirs = await client.get(`/api/history?account=${bob.primary}`, bob.id).expect(200);
      expect(theirs.body.movements).to.have.length(1);
      expect(theirs.body.movements[0]).to.include({ amount: '12.34', counterparty: alice.username });
    });

    it('moves money to one’s own account by account number (spaces and case ignored)', async () => {
      const opened = await client
        .post('/api/accounts', alice.id, { idempotencyKey: newKey(), currency: 'EUR' })
        .expect(201);
      const number: string = opened.body.account.number;
      const spaced = `${number.slice(0, 4).toLowerCase()} ${number.slice(4, 8)} ${number.slice(8)}`;
      await transfer(alice, { idempotencyKey: newKey(), fromAccount: alice.primary, to: spaced, amount: '40' }).expect(
        201,
      );
      expect(await balanceOf(db(), number)).to.equal('40.00');
    });

    it('spends to exactly zero, then refuses one cent more with a clear reason and nothing written', async () => {
      await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: alice.primary,
        to: bob.username,
        amount: '100.00',
      }).expect(201);
      expect(await balanceOf(db(), alice.primary)).to.equal('0.00');
      const before = await journalCount(db());
      const res = await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: alice.primary,
        to: bob.username,
        amount: '0.01',
      }).expect(422);
      expect(res.body.error.code).to.equal('insufficient_funds');
      expect(res.body.error.message).to.match(/^Solde insuffisant : .*0\.00 EUR.*0\.01 EUR/);
      expect(await journalCount(db())).to.equal(before);
      expect(await balanceOf(db(), bob.primary)).to.equal('100.00');
    });

    it('replays the same key and payload with the original result and no second movement', async () => {
      const body = { idempotencyKey: newKey(), fromAccount: alice.primary, to: bob.username, amount: '10.00' };
      const first = await transfer(alice, body).expect(201);
      const again = await transfer(alice, { ...body, amount: '10' }).expect(200);
      expect(again.headers['idempotent-replay']).to.equal('true');
      expect(again.body).to.deep.equal(first.body);
      expect(await balanceOf(db(), alice.primary)).to.equal('90.00');
    });

    it('answers 409 when a key is reused with a different payload', async () => {
      const key = newKey();
      await transfer(alice, {
        idempotencyKey: key,
        fromAccount: alice.primary,
        to: bob.username,
        amount: '10.00',
      }).expect(201);
      const res = await transfer(alice, {
        idempotencyKey: key,
        fromAccount: alice.primary,
        to: bob.username,
        amount: '11.00',
      }).expect(409);
      expect(res.body.error.code).to.equal('idempotency_key_reused');
      expect(await balanceOf(db(), alice.primary)).to.equal('90.00');
    });

    it('keeps a failed key failed even after the funds arrive', async () => {
      const body = { idempotencyKey: newKey(), fromAccount: alice.primary, to: bob.username, amount: '150.00' };
      const first = await transfer(alice, body).expect(422);
      expect(first.body.error.code).to.equal('insufficient_funds');
      await fund(db(), admin, alice.primary, '100.00');
      const again = await transfer(alice, body).expect(422);
      expect(again.headers['idempotent-replay']).to.equal('true');
      expect(again.body.error.code).to.equal('insufficient_funds');
      expect(again.body.error.message).to.equal(first.body.error.message);
      expect(await balanceOf(db(), alice.primary)).to.equal('200.00');
      await transfer(alice, { ...body, idempotencyKey: newKey() }).expect(201);
      expect(await balanceOf(db(), alice.primary)).to.equal('50.00');
    });

    it('keeps keys per user: another user’s identical key is a fresh request', async () => {
      const key = newKey();
      await fund(db(), admin, bob.username, '5.00');
      await transfer(alice, {
        idempotencyKey: key,
        fromAccount: alice.primary,
        to: bob.username,
        amount: '1.00',
      }).expect(201);
      await transfer(bob, { idempotencyKey: key, fromAccount: bob.primary, to: alice.username, amount: '2.00' }).expect(
        201,
      );
      expect(await balanceOf(db(), bob.primary)).to.equal('4.00');
    });

    it('refuses to debit another user’s account even with a forged fromAccount, and records nothing', async () => {
      await fund(db(), admin, bob.username, '50.00');
      const before = await journalCount(db());
      const res = await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: bob.primary,
        to: alice.primary,
        amount: '50.00',
      }).expect(403);
      expect(res.body.error.code).to.equal('not_your_account');
      expect(await balanceOf(db(), bob.primary)).to.equal('50.00');
      expect(await journalCount(db())).to.equal(before);
      // Reading it is refused as if it did not exist: the history serves only the user's own accounts.
      const read = await client.get(`/api/history?account=${bob.primary}`, alice.id).expect(404);
      expect(read.body.error.code).to.equal('unknown_account');
      expect(read.body.movements).to.equal(undefined);
    });

    it('refuses settlement as a source or a destination', async () => {
      const from = await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: 'FT0000000001',
        to: alice.username,
        amount: '1.00',
      }).expect(403);
      expect(from.body.error.code).to.equal('not_your_account');
      const to = await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: alice.primary,
        to: 'FT0000000001',
        amount: '1.00',
      }).expect(404);
      expect(to.body.error.code).to.equal('unknown_recipient');
      expect(await balanceOf(db(), alice.primary)).to.equal('100.00');
    });

    it('refuses self-transfer, currency mismatch, unknown account and unknown recipient', async () => {
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ fromAccount: alice.primary, to: alice.primary, amount: '1.00' }, 422, 'same_account'],
        [{ fromAccount: alice.primary, to: alice.username, amount: '1.00' }, 422, 'same_account'],
        [{ fromAccount: 'FT1000000000', to: bob.username, amount: '1.00' }, 404, 'unknown_account'],
        [{ fromAccount: 'not-an-account', to: bob.username, amount: '1.00' }, 404, 'unknown_account'],
        [{ fromAccount: alice.primary, to: 'nobody-here-xyz', amount: '1.00' }, 404, 'unknown_recipient'],
        [{ fromAccount: alice.primary, to: 'FT1000000000', amount: '1.00' }, 404, 'unknown_recipient'],
        // Shaped like an account number but too short: still only ever an account number.
        [{ fromAccount: alice.primary, to: 'ft 123', amount: '1.00' }, 404, 'unknown_recipient'],
      ];
      const usd = await client.post('/api/accounts', bob.id, { idempotencyKey: newKey(), currency: 'USD' }).expect(201);
      cases.push([
        { fromAccount: alice.primary, to: usd.body.account.number, amount: '1.00' },
        422,
        'currency_mismatch',
      ]);
      const aliceUsd = await client
        .post('/api/accounts', alice.id, { idempotencyKey: newKey(), currency: 'USD' })
        .expect(201);
      const carol = await makeUser(db(), 'carol');
      cases.push([
        { fromAccount: aliceUsd.body.account.number, to: carol.username, amount: '1.00' },
        422,
        'currency_mismatch',
      ]);
      const before = await journalCount(db());
      for (const [body, status, code] of cases) {
        const res = await transfer(alice, { idempotencyKey: newKey(), ...body });
        expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(res.body.error.message).to.be.a('string').and.not.empty;
      }
      expect(await journalCount(db())).to.equal(before);
      expect(await balanceOf(db(), alice.primary)).to.equal('100.00');
    });

    it('refuses bad amounts with 422 and a readable message, writing nothing', async () => {
      const before = await journalCount(db());
      const transfersBefore = await db()('transfers').count<{ n: number }[]>({ n: '*' }).first();
      for (const amount of [
        '0',
        '-1',
        '0.001',
        '1e3',
        '1,5',
        'abc',
        '',
        '   ',
        '1000000.01',
        '9'.repeat(5000),
        '0.00',
        '.5',
        '1.',
      ]) {
        const res = await transfer(alice, {
          idempotencyKey: newKey(),
          fromAccount: alice.primary,
          to: bob.username,
          amount,
        });
        expect(res.status, `amount ${amount.slice(0, 20)}`).to.equal(422);
        expect(res.body.error.code).to.be.oneOf(['invalid_amount', 'amount_too_large']);
        expect(res.body.error.message).to.match(/montant/i);
      }
      const max = await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: alice.primary,
        to: bob.username,
        amount: '1000000.00',
      }).expect(422);
      expect(max.body.error.code).to.equal('insufficient_funds');
      expect(await journalCount(db())).to.equal(before);
      const transfersAfter = await db()('transfers').count<{ n: number }[]>({ n: '*' }).first();
      expect(Number(transfersAfter?.n)).to.equal(Number(transfersBefore?.n) + 1);
    });

    it('refuses missing keys, wrong types and unknown fields with 400', async () => {
      const base = { fromAccount: alice.primary, to: bob.username, amount: '1.00' };
      const cases: Array<[unknown, string]> = [
        [base, 'missing_idempotency_key'],
        [{ ...base, idempotencyKey: '' }, 'missing_idempotency_key'],
        [{ ...base, idempotencyKey: 'short' }, 'invalid_idempotency_key'],
        [{ ...base, idempotencyKey: 12345678 }, 'invalid_idempotency_key'],
        [{ ...base, idempotencyKey: newKey(), amount: 10 }, 'invalid_field'],
        [{ ...base, idempotencyKey: newKey(), fromAccount: 7 }, 'invalid_field'],
        [{ ...base, idempotencyKey: newKey(), userId: bob.id }, 'unknown_field'],
        [{ ...base, idempotencyKey: newKey(), to: undefined }, 'missing_field'],
        [[base], 'invalid_body'],
      ];
      for (const [body, code] of cases) {
        const res = await transfer(alice, body as Record<string, unknown>);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error.code).to.equal(code);
      }
      const malformed = await client.post('/api/transfers', alice.id, '{"amount": ').expect(400);
      expect(malformed.body.error.message).to.be.a('string').and.not.empty;
      expect(await balanceOf(db(), alice.primary)).to.equal('100.00');
    });
  });

  describe('history', () => {
    it('paginates one account newest first and says whether there is more', async () => {
      for (let i = 1; i <= 5; i += 1) {
        await transfer(alice, {
          idempotencyKey: newKey(),
          fromAccount: alice.primary,
          to: bob.username,
          amount: `${i}.00`,
        }).expect(201);
      }
      const page1 = await client.get(`/api/history?account=${alice.primary}&page=1&pageSize=4`, alice.id).expect(200);
      expect(page1.body).to.include({ page: 1, pageSize: 4, hasNext: true });
      expect(page1.body.movements.map((m: { amount: string }) => m.amount)).to.deep.equal([
        '-5.00',
        '-4.00',
        '-3.00',
        '-2.00',
      ]);
      const page2 = await client.get(`/api/history?account=${alice.primary}&page=2&pageSize=4`, alice.id).expect(200);
      expect(page2.body).to.include({ page: 2, hasNext: false });
      expect(page2.body.movements.map((m: { amount: string }) => m.amount)).to.deep.equal(['-1.00', '100.00']);
    });

    it('answers 404 for an unknown account and 400 for bad paging', async () => {
      expect((await client.get('/api/history?account=FT1000000000', alice.id).expect(404)).body.error.code).to.equal(
        'unknown_account',
      );
      for (const query of ['page=0', 'pageSize=101', 'page=abc', 'limit=5', 'sort=id', 'page=1&page=2']) {
        const res = await client.get(`/api/history?${query}`, alice.id);
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code, query).to.equal('invalid_query');
      }
    });

    it('serves pages up to the contract’s MAX_PAGE and refuses an offset beyond it with a 400 JSON error', async () => {
      const last = await client.get(`/api/history?page=${MAX_PAGE}&pageSize=${MAX_PAGE_SIZE}`, alice.id).expect(200);
      expect(last.body).to.include({ page: MAX_PAGE, hasNext: false });
      expect(last.body.movements).to.deep.equal([]);
      for (const page of [MAX_PAGE + 1, 100_000, 200_000, 10_000_000]) {
        const res = await client.get(`/api/history?page=${page}&pageSize=${MAX_PAGE_SIZE}`, alice.id).expect(400);
        expect(res.type).to.equal('application/json');
        expect(res.body.error.code, String(page)).to.equal('invalid_query');
        expect(res.body.error.message).to.contain(`entre 1 et ${MAX_PAGE}`);
      }
      await client.get(`/api/ledger/journal?page=${MAX_PAGE + 1}`, admin.id).expect(400);
    });
  });

  describe('deposits and accounting (admin)', () => {
    it('lets only an admin deposit, from settlement, idempotently', async () => {
      const refused = await client
        .post('/api/deposits', alice.id, { idempotencyKey: newKey(), to: alice.username, amount: '5.00' })
        .expect(403);
      expect(refused.body.error.code).to.equal('admin_only');
      const body = { idempotencyKey: newKey(), to: bob.username, amount: '25.50' };
      const res = await client.post('/api/deposits', admin.id, body).expect(201);
      expect(res.body.deposit).to.include({
        amount: '25.50',
        currency: 'EUR',
        fromAccount: 'FT0000000001',
        toAccount: bob.primary,
        label: 'Dépôt',
      });
      await client.post('/api/deposits', admin.id, body).expect(200);
      expect(await balanceOf(db(), bob.primary)).to.equal('25.50');
      const unknown = await client
        .post('/api/deposits', admin.id, { idempotencyKey: newKey(), to: 'FT0000000002', amount: '1.00' })
        .expect(404);
      expect(unknown.body.error.code).to.equal('unknown_recipient');
    });

    it('shows the journal and a balanced trial balance to the admin only', async () => {
      await transfer(alice, {
        idempotencyKey: newKey(),
        fromAccount: alice.primary,
        to: bob.username,
        amount: '30.00',
      }).expect(201);
      await client.get('/api/ledger/journal', alice.id).expect(403);
      await client.get('/api/ledger/trial-balance', bob.id).expect(403);
      const journal = await client.get('/api/ledger/journal?page=1&pageSize=2', admin.id).expect(200);
      expect(journal.body).to.include({ page: 1, pageSize: 2, hasNext: true });
      const [credit, debit] = journal.body.entries;
      expect(credit).to.include({
        accountNumber: bob.primary,
        owner: bob.username,
        amount: '30.00',
        currency: 'EUR',
        type: 'transfer',
      });
      expect(debit).to.include({ accountNumber: alice.primary, owner: alice.username, amount: '-30.00' });
      expect(credit.reference).to.equal(debit.reference);

      const trial = await client.get('/api/ledger/trial-balance', admin.id).expect(200);
      expect(trial.body.balanced).to.equal(true);
      const eur = trial.body.currencies.find((c: { currency: string }) => c.currency === 'EUR');
      expect(eur.net).to.equal('0.00');
      expect(eur.debits).to.equal(eur.credits);
      const settlement = trial.body.accounts.find((a: { number: string }) => a.number === 'FT0000000001');
      expect(settlement.owner).to.equal('Banque');
      expect(settlement.balance.startsWith('-')).to.equal(true);
      for (const account of trial.body.accounts) expect(account.balance).to.equal(account.journalBalance);
    });
  });

  it('refuses unsigned calls and unknown acting users', async () => {
    const unsigned = await request(client.server).get('/api/accounts').expect(401);
    expect(unsigned.body.error.code).to.equal('invalid_signature');
    const unknown = await client.get('/api/accounts', 987654).expect(401);
    expect(unknown.body.error.code).to.equal('unknown_user');
  });

  it('refuses a correctly signed call whose acting user is not a user id (0, negative, a name, too long)', async () => {
    for (const actingUser of ['0', '-1', 'alice', '01', '12345678901']) {
      const res = await client.get('/api/accounts', actingUser);
      expect(res.status, actingUser).to.equal(401);
      expect(res.body.error, actingUser).to.include({
        code: 'invalid_signature',
        message: 'Requête non authentifiée.',
      });
    }
  });
});
