import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createDb } from '#shared/db.js';
import { formatCents } from '#shared/contract/money.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { fund, makeUser, migrate, newKey, transactionsApp, type TestUser } from '../../helpers/fixtures.js';
import { signedClient, type SignedClient } from '../../helpers/fixtures.js';

interface Request {
  user: TestUser;
  body: { idempotencyKey: string; fromAccount: string; to: string; amount: string };
}

interface Answer {
  status: number;
  code?: string;
  reference?: string;
}

/** Runs `tasks` with at most `concurrency` in flight, keeping results in input order. */
async function pool<T, R>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T, index);
    }
  });
  await Promise.all(workers);
  return results;
}

async function balances(db: Knex): Promise<Map<string, bigint>> {
  const rows: Array<{ number: string; balance: unknown }> = await db('accounts').select('number', 'balance');
  return new Map(rows.map((r) => [r.number, BigInt(String(r.balance))]));
}

/**
 * Two service instances (two Knex pools, so on SQLite two connections fighting for the one
 * write lock, like the web and transactions processes) take the same concurrent load.
 */
describeEachDatabase('money under concurrency', ({ db, url }) => {
  let second: Knex;
  let clients: SignedClient[];
  let admin: TestUser;

  before(async () => {
    await migrate(db());
    second = createDb(url());
    clients = [await signedClient(transactionsApp(db())), await signedClient(transactionsApp(second))];
    admin = await makeUser(db(), 'admin', true);
  });

  after(async () => {
    for (const client of clients ?? []) await client.close();
    await second?.destroy();
  });

  it('500 random transfers among 10 accounts at concurrency 20, with duplicate keys, conserve money exactly', async function () {
    this.timeout(120_000);
    const users: TestUser[] = [];
    for (let i = 0; i < 10; i += 1) {
      const user = await makeUser(db(), 'load');
      await fund(db(), admin, user.primary, '100.00');
      users.push(user);
    }
    const accounts = users.map((u) => u.primary);
    const initial = await balances(db());

    const requests: Request[] = [];
    while (requests.length < 500) {
      const previous = requests[randomInt(0, Math.max(1, requests.length))];
      if (previous && randomInt(0, 100) < 15) {
        requests.push(previous); // same key, same payload: must never move money twice
        continue;
      }
      const from = randomInt(0, 10);
      const to = (from + randomInt(1, 10)) % 10;
      const user = users[from] as TestUser;
      const cents = randomInt(1, 6_000);
      requests.push({
        user,
        body: {
          idempotencyKey: newKey(),
          fromAccount: user.primary,
          to: accounts[to] as string,
          amount: formatCents(cents),
        },
      });
    }

    const answers = await pool(requests, 20, async (req, index): Promise<Answer> => {
      const res = await (clients[index % 2] as SignedClient).post('/api/transfers', req.user.id, req.body);
      return { status: res.status, code: res.body.error?.code, reference: res.body.transfer?.reference };
    });

    // Every answer is a success, a replay or a clear refusal: never a 5xx, never a busy error.
    for (const a of answers) expect([200, 201, 422], JSON.stringify(a)).to.include(a.status);
    for (const a of answers.filter((x) => x.status === 422)) expect(a.code).to.equal('insufficient_funds');

    // One outcome per key: replays agree with the first answer, and each key moved money once at most.
    const byKey = new Map<string, Answer[]>();
    requests.forEach((r, i) =>
      byKey.set(r.body.idempotencyKey, [...(byKey.get(r.body.idempotencyKey) ?? []), answers[i] as Answer]),
    );
    const acceptedKeys = new Set<string>();
    for (const [key, list] of byKey) {
      const refs = new Set(list.map((a) => a.reference ?? a.code));
      expect(refs.size, `answers for ${key}: ${JSON.stringify(list)}`).to.equal(1);
      expect(list.filter((a) => a.status === 201).length).to.be.at.most(1);
      if (list[0]?.reference) acceptedKeys.add(key);
    }
    expect(acceptedKeys.size).to.be.greaterThan(50);
    expect(answers.some((a) => a.status === 422)).to.equal(true);

    const rows: Array<{
      key: string;
      status: string;
      from: string;
      to: string;
      amount: unknown;
      postings: unknown;
      net: unknown;
      first: unknown;
    }> = await db()('transfers as tr')
      .join('accounts as fa', 'fa.id', 'tr.from_account_id')
      .join('accounts as ta', 'ta.id', 'tr.to_account_id')
      .leftJoin('transactions as t', 't.transfer_id', 'tr.id')
      .whereIn('tr.idempotency_key', [...byKey.keys()])
      .groupBy('tr.id', 'tr.idempotency_key', 'tr.status', 'fa.number', 'ta.number', 'tr.amount')
      .select(
        'tr.idempotency_key as key',
        'tr.status',
        'fa.number as from',
        'ta.number as to',
        'tr.amount',
        db().raw('count(t.id) as postings'),
        db().raw('coalesce(sum(t.amount), 0) as net'),
        db().raw('min(t.id) as first'),
      );
    expect(rows).to.have.length(byKey.size);
    for (const row of rows) {
      expect(Number(row.postings), row.key).to.equal(row.status === 'succeeded' ? 2 : 0);
      expect(Number(row.net)).to.equal(0);
    }
    expect(new Set(rows.filter((r) => r.status === 'succeeded').map((r) => r.key))).to.deep.equal(acceptedKeys);

    const final = await balances(db());
    const sum = (m: Map<string, bigint>, keys: string[]) => keys.reduce((s, k) => s + (m.get(k) ?? 0n), 0n);
    expect(sum(final, accounts)).to.equal(sum(initial, accounts));
    expect([...final.values()].reduce((s, v) => s + v, 0n)).to.equal(0n);
    for (const number of accounts) expect(final.get(number)! >= 0n, number).to.equal(true);

    // Serial replay of the accepted transfers in journal order gives the same balances and never
    // needs an overdraft along the way.
    const replay = new Map(accounts.map((n) => [n, initial.get(n) ?? 0n]));
    const accepted = rows.filter((r) => r.status === 'succeeded').sort((a, b) => Number(a.first) - Number(b.first));
    for (const t of accepted) {
      const amount = BigInt(String(t.amount));
      replay.set(t.from, (replay.get(t.from) ?? 0n) - amount);
      replay.set(t.to, (replay.get(t.to) ?? 0n) + amount);
      expect(replay.get(t.from)! >= 0n, `replay overdraws ${t.from}`).to.equal(true);
    }
    for (const number of accounts) expect(final.get(number), number).to.equal(replay.get(number));

    const trial = await clients[0]!.get('/api/ledger/trial-balance', admin.id).expect(200);
    expect(trial.body.balanced).to.equal(true);
    const users_ = await db()('users as u')
      .join('accounts as a', function () {
        this.on('a.user_id', '=', 'u.id').andOnVal('a.kind', '=', 'primary');
      })
      .whereIn(
        'u.id',
        users.map((u) => u.id),
      )
      .select('u.balance as user_balance', 'a.balance as account_balance');
    for (const row of users_) expect(String(row.user_balance)).to.equal(String(row.account_balance));
  });

  it('20 concurrent submissions of one key move money exactly once', async function () {
    this.timeout(60_000);
    const payer = await makeUser(db(), 'payer');
    const payee = await makeUser(db(), 'payee');
    await fund(db(), admin, payer.primary, '50.00');
    const body = { idempotencyKey: newKey(), fromAccount: payer.primary, to: payee.username, amount: '30.00' };
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (clients[i % 2] as SignedClient).post('/api/transfers', payer.id, body)),
    );
    const statuses = responses.map((r) => r.status).sort((a, b) => a - b);
    expect(statuses).to.deep.equal([...Array<number>(19).fill(200), 201]);
    const refs = new Set(responses.map((r) => r.body.transfer.reference));
    expect(refs.size).to.equal(1);
    const accountsNow = await balances(db());
    expect(accountsNow.get(payer.primary)).to.equal(2000n);
    expect(accountsNow.get(payee.primary)).to.equal(3000n);
    const postings = await db()('transactions as t')
      .join('transfers as tr', 'tr.id', 't.transfer_id')
      .where('tr.idempotency_key', body.idempotencyKey)
      .count<{ n: unknown }[]>({ n: '*' })
      .first();
    expect(Number(postings?.n)).to.equal(2);
  });

  it('two concurrent spends that each fit but not together: exactly one succeeds, balance never negative', async function () {
    this.timeout(60_000);
    for (let round = 0; round < 10; round += 1) {
      const payer = await makeUser(db(), 'race');
      const payee = await makeUser(db(), 'racee');
      await fund(db(), admin, payer.primary, '10.00');
      const responses = await Promise.all(
        [0, 1].map((i) =>
          (clients[i] as SignedClient).post('/api/transfers', payer.id, {
            idempotencyKey: newKey(),
            fromAccount: payer.primary,
            to: payee.primary,
            amount: '7.00',
          }),
        ),
      );
      expect(responses.map((r) => r.status).sort((a, b) => a - b)).to.deep.equal([201, 422]);
      expect((await balances(db())).get(payer.primary)).to.equal(300n);
    }
  });

  it('opens at most 10 accounts per user, even when 12 requests arrive at once through two writers', async function () {
    this.timeout(60_000);
    const owner = await makeUser(db(), 'owner');
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (clients[i % 2] as SignedClient).post('/api/accounts', owner.id, {
          idempotencyKey: newKey(),
          currency: i % 3 ? 'EUR' : 'USD',
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort((a, b) => a - b);
    expect(statuses).to.deep.equal([...Array<number>(9).fill(201), 422, 422, 422]);
    expect(responses.find((r) => r.status === 422)?.body.error.code).to.equal('too_many_accounts');
    const count = await db()('accounts').where({ user_id: owner.id }).count<{ n: unknown }[]>({ n: '*' }).first();
    expect(Number(count?.n)).to.equal(10);
  });
});

describeEachDatabase('the journal is append-only', ({ db, kind }) => {
  before(async () => {
    await migrate(db());
    const admin = await makeUser(db(), 'admin', true);
    const user = await makeUser(db(), 'user');
    await fund(db(), admin, user.primary, '10.00');
  });

  it('refuses UPDATE and DELETE on journal rows, leaving them unchanged', async () => {
    const before = await db()('transactions').orderBy('id');
    expect(before.length).to.be.greaterThan(0);
    let updateError: unknown;
    await db()('transactions')
      .update({ amount: 999_999 })
      .catch((err: unknown) => (updateError = err));
    expect(String(updateError)).to.match(/append-only/);
    let deleteError: unknown;
    await db()('transactions')
      .del()
      .catch((err: unknown) => (deleteError = err));
    expect(String(deleteError)).to.match(/append-only/);
    if (kind === 'PostgreSQL') {
      let truncateError: unknown;
      await db()
        .raw('truncate transactions cascade')
        .catch((err: unknown) => (truncateError = err));
      expect(String(truncateError)).to.match(/append-only/);
    }
    expect(await db()('transactions').orderBy('id')).to.deep.equal(before);
  });
});
