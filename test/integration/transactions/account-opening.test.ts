import { expect } from 'chai';
import type { Knex } from 'knex';
import request from 'supertest';
import { signatureHeaders } from '#shared/signing.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  makeUser,
  migrate,
  newKey,
  signedClient,
  TEST_SIGNING_KEY,
  transactionsApp,
  type SignedClient,
  type TestUser,
} from '../../helpers/fixtures.js';

async function accountCount(db: Knex, user: TestUser): Promise<number> {
  const row = await db('accounts').where({ user_id: user.id }).count<{ n: unknown }[]>({ n: '*' }).first();
  return Number(row?.n);
}

/**
 * A captured signed POST /api/accounts replayed within the signature window opens nothing more:
 * the idempotency key in the signed body names the account it opened, as transfers do.
 */
describeEachDatabase('transactions API: idempotent account opening', ({ db }) => {
  let clients: SignedClient[];
  let alice: TestUser;

  before(async () => {
    await migrate(db());
    // Two app instances on one database: two colours or two replicas.
    clients = [await signedClient(transactionsApp(db())), await signedClient(transactionsApp(db()))];
  });
  beforeEach(async () => {
    alice = await makeUser(db(), 'alice');
  });
  after(async () => {
    for (const client of clients) await client.close();
  });

  it('answers a replayed signed request with the same account, not a new one', async () => {
    const body = JSON.stringify({ idempotencyKey: newKey(), currency: 'USD' });
    const captured = signatureHeaders(TEST_SIGNING_KEY, {
      method: 'POST',
      path: '/api/accounts',
      body,
      actingUserId: String(alice.id),
    });
    const send = () =>
      request((clients[0] as SignedClient).server)
        .post('/api/accounts')
        .set(captured)
        .set('Content-Type', 'application/json')
        .send(body);
    const first = await send();
    expect(first.status).to.equal(201);
    expect(first.body.account.currency).to.equal('USD');
    for (let i = 0; i < 3; i += 1) {
      const replay = await send();
      expect(replay.status).to.equal(200);
      expect(replay.headers['idempotent-replay']).to.equal('true');
      expect(replay.body.account).to.deep.equal(first.body.account);
    }
    expect(await accountCount(db(), alice)).to.equal(2);
  });

  it('opens one account when the same request arrives 6 times at once through two instances', async () => {
    const body = { idempotencyKey: newKey(), currency: 'EUR' };
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (clients[i % 2] as SignedClient).post('/api/accounts', alice.id, body)),
    );
    expect(responses.map((r) => r.status).sort()).to.deep.equal([200, 200, 200, 200, 200, 201]);
    expect(new Set(responses.map((r) => r.body.account.number)).size).to.equal(1);
    expect(await accountCount(db(), alice)).to.equal(2);
  });

  it('refuses the same key for another currency with 409, opening nothing', async () => {
    const client = clients[0] as SignedClient;
    const key = newKey();
    await client.post('/api/accounts', alice.id, { idempotencyKey: key, currency: 'EUR' }).expect(201);
    const reused = await client.post('/api/accounts', alice.id, { idempotencyKey: key, currency: 'USD' });
    expect(reused.status).to.equal(409);
    expect(reused.body.error.code).to.equal('idempotency_key_reused');
    expect(reused.body.error.message).to.contain('autre devise');
    expect(await accountCount(db(), alice)).to.equal(2);
  });

  it('keeps keys per user: the same key opens an account for each of two users', async () => {
    const bob = await makeUser(db(), 'bob');
    const key = newKey();
    const client = clients[0] as SignedClient;
    const a = await client.post('/api/accounts', alice.id, { idempotencyKey: key, currency: 'EUR' }).expect(201);
    const b = await client.post('/api/accounts', bob.id, { idempotencyKey: key, currency: 'EUR' }).expect(201);
    expect(a.body.account.number).not.to.equal(b.body.account.number);
  });

  it('requires a well-formed key (400) before opening anything', async () => {
    const client = clients[0] as SignedClient;
    const missing = await client.post('/api/accounts', alice.id, { currency: 'EUR' });
    expect(missing.status).to.equal(400);
    expect(missing.body.error.code).to.equal('missing_idempotency_key');
    const bad = await client.post('/api/accounts', alice.id, { idempotencyKey: 'x y', currency: 'EUR' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('invalid_idempotency_key');
    expect(await accountCount(db(), alice)).to.equal(1);
  });
});
