import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';
import request from 'supertest';
import { recordAudit, sealAuditTrail, startAuditSealer } from '#shared/audit.js';
import { verifyAuditChain } from '#shared/audit-verify.js';
import { dbClient } from '#shared/db.js';
import { createLogger } from '#shared/logger.js';
import { describeEachDatabase, freshDatabase } from '../../helpers/databases.js';
import {
  csrfFrom,
  migrate,
  primaryAccountOf,
  startStack,
  submitLogin,
  submitRegistration,
  uniqueName as unique,
  webReplica,
  type Agent,
  type Stack,
} from '../../helpers/fixtures.js';

const run = promisify(execFile);

/** `npm run audit:verify` against a database: its exit code and what it printed. */
async function auditVerify(url: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'services/jobs/src/audit-verify.ts'], {
      env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

interface Row {
  seq: number | string;
  event: string;
  outcome: string;
  actor: string | null;
  details: string;
  request_id: string | null;
  client_ip: string | null;
}

describeEachDatabase('the audit trail', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  const rowsAfter = async (id: number): Promise<Row[]> =>
    db()('audit_events').where('id', '>', id).orderBy('id').select<Row[]>('*');
  const lastId = async () => Number((await db()('audit_events').max({ id: 'id' }).first())?.id ?? 0);
  /** What every replica does every second (startAuditSealer), run here until nothing is left. */
  const sealAll = async () => {
    while ((await sealAuditTrail(db())) > 0);
  };

  async function loggedIn(username: string): Promise<Agent> {
    const agent = request.agent(stack.web.callback());
    expect((await submitLogin(agent, username, 'password123')).status).to.equal(302);
    return agent;
  }

  async function transfer(agent: Agent, fromAccount: string, to: string, amount: string) {
    const page = await agent.get('/transfer').expect(200);
    return agent
      .post('/transfer')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        idempotencyKey: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '',
        fromAccount,
        to,
        amount,
        label: 'Audit',
      });
  }

  it('records each action with its request id, actor, address and outcome, and no secret', async () => {
    await sealAll(); // the seed's rows
    const start = await lastId();
    const name = unique('audited');
    expect((await submitRegistration(request.agent(stack.web.callback()), name, 'longenough1')).status).to.equal(302);
    expect((await submitLogin(request.agent(stack.web.callback()), 'alice', 'wrong-password')).status).to.equal(401);
    const alice = await loggedIn('alice');
    const from = await primaryAccountOf(db(), 'alice');
    const bob = await primaryAccountOf(db(), 'bob');
    const sent = await transfer(alice, from, bob, '2.50');
    expect(sent.status).to.equal(303);
    expect((await transfer(alice, from, bob, '999999.00')).status).to.equal(422);
    const opening = await alice.get('/create_account');
    await alice
      .post('/create_account')
      .type('form')
      .send({ currency: 'USD', _csrf: csrfFrom(opening.text) })
      .expect(303);
    const logout = await alice.get('/logout');
    await alice
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(logout.text) })
      .expect(302);
    const admin = await loggedIn('admin');
    await admin.get('/accounting').expect(200);

    const rows = await rowsAfter(start);
    expect(rows.map((r) => `${r.event}:${r.outcome}:${r.actor ?? '-'}`)).to.deep.equal([
      `registration:succeeded:${name}`,
      `account.opened:succeeded:-`,
      'login.failed:failed:alice',
      'login.succeeded:succeeded:alice',
      'transfer:accepted:-',
      'transfer:refused:-',
      'account.opened:succeeded:-',
      'logout:succeeded:alice',
      'login.succeeded:succeeded:admin',
      'admin.page_viewed:succeeded:admin',
    ]);
    const accepted = JSON.parse(rows[4]?.details ?? '{}');
    expect(accepted).to.include({ amount: '2.50', currency: 'EUR', fromAccount: from, toAccount: bob, refusal: null });
    expect(accepted.reference).to.match(/^TRX-/);
    expect(JSON.parse(rows[5]?.details ?? '{}')).to.include({ refusal: 'insufficient_funds', amount: '999999.00' });
    for (const row of rows) {
      expect(row.request_id, row.event).to.match(/^[0-9a-f-]{36}$/);
      expect(row.client_ip, row.event).to.match(/127\.0\.0\.1/);
      expect(JSON.stringify(row)).to.not.contain('password').and.not.contain('wrong-password');
    }
    // Written unsealed; the sealer chains them, in the order they were written.
    expect(rows.map((r) => r.seq)).to.deep.equal(rows.map(() => null));
    expect(await verifyAuditChain(db())).to.deep.include({ ok: true, unsealed: rows.length });
    await sealAll();
    const sealed = await rowsAfter(start);
    const first = Number(sealed[0]?.seq);
    expect(sealed.map((r) => Number(r.seq))).to.deep.equal(sealed.map((_, i) => first + i));
    expect(await verifyAuditChain(db())).to.deep.include({ ok: true, unsealed: 0 });
  });

  it('stays one unbroken chain under 40 concurrent logins and 40 concurrent transfers', async function () {
    this.timeout(120_000);
    const bob = await primaryAccountOf(db(), 'bob');
    const charlie = await loggedIn('charlie');
    await sealAll();
    const start = await lastId();
    const from = await primaryAccountOf(db(), 'charlie');
    // The session's CSRF token is made by its first form: one first, then the other 39 at once.
    await charlie.get('/transfer').expect(200);
    const forms = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const page = await charlie.get('/transfer').expect(200);
        return {
          _csrf: csrfFrom(page.text),
          idempotencyKey: /name="idempotencyKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '',
        };
      }),
    );
    // Each login from its own address (through the trusted proxy): one address may have only 5
    // attempts on one name under way at once (login-guard.ts).
    const replica = webReplica(stack, url(), { TRUST_PROXY: '127.0.0.1/8,::1' });
    after(() => replica.close());
    const loginFrom = async (i: number) => {
      const agent = request.agent(replica.web.callback());
      const form = await agent.get('/login').expect(200);
      return agent
        .post('/login')
        .set('X-Forwarded-For', `198.51.100.${i + 1}`)
        .type('form')
        .send({ username: i % 2 ? 'alice' : 'bob', password: 'password123', _csrf: csrfFrom(form.text) });
    };
    const answers = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => loginFrom(i)),
      ...forms.map((form) =>
        charlie
          .post('/transfer')
          .type('form')
          .send({ ...form, fromAccount: from, to: bob, amount: '0.01', label: 'Concurrent' }),
      ),
    ]);
    expect(answers.slice(0, 40).map((a) => a.status)).to.deep.equal(Array<number>(40).fill(302));
    expect(answers.slice(40).map((a) => a.status)).to.deep.equal(Array<number>(40).fill(303));
    const rows = await rowsAfter(start);
    expect(rows.filter((r) => r.event === 'login.succeeded')).to.have.length(40);
    expect(rows.filter((r) => r.event === 'transfer' && r.outcome === 'accepted')).to.have.length(40);
    // Three sealers at once (three replicas): they take turns on the head and make one chain.
    const sealedBy = await Promise.all([sealAuditTrail(db(), 7), sealAuditTrail(db(), 7), sealAuditTrail(db(), 7)]);
    expect(sealedBy.reduce((a, b) => a + b)).to.equal(Math.min(21, rows.length));
    await sealAll();
    const sealed = await rowsAfter(start);
    const first = Number(sealed[0]?.seq);
    expect(sealed.map((r) => Number(r.seq)).sort((a, b) => a - b)).to.deep.equal(sealed.map((_, i) => first + i));
    expect(await verifyAuditChain(db())).to.deep.include({ ok: true, unsealed: 0 });
    expect(await auditVerify(url())).to.deep.include({ code: 0 });
  });

  it('refuses UPDATE and DELETE on the trail, and DELETE of its head, in the database itself', async () => {
    await recordAudit(db(), { event: 'logout', outcome: 'succeeded' });
    await sealAll();
    await recordAudit(db(), { event: 'logout', outcome: 'succeeded' });
    const unsealed = await lastId();
    const sealed = unsealed - 1;
    for (const attempt of [
      () => db()('audit_events').where({ id: sealed }).update({ outcome: 'forged' }),
      () =>
        db()('audit_events')
          .where({ id: sealed })
          .update({ hash: 'f'.repeat(64) }),
      () => db()('audit_events').where({ id: sealed }).delete(),
      // An unsealed row: its content stays as written, even when "sealed" at the same time.
      () => db()('audit_events').where({ id: unsealed }).update({ actor: 'mallory' }),
      () =>
        db()('audit_events')
          .where({ id: unsealed })
          .update({ actor: 'mallory', seq: 10 ** 9, hash: 'f'.repeat(64) }),
      () => db()('audit_events').where({ id: unsealed }).delete(),
      () => db()('audit_chain').delete(),
    ]) {
      let refused: unknown;
      await attempt().catch((err: unknown) => (refused = err));
      expect(String(refused), attempt.toString()).to.contain('audit_append_only');
    }
    await sealAll();
    expect(await verifyAuditChain(db())).to.deep.include({ ok: true, unsealed: 0 });
  });

  it('is sealed by the services themselves: every round, and once more when a replica stops', async () => {
    const unsealed = async () => Number((await db()('audit_events').whereNull('hash').count({ n: '*' }).first())?.n);
    await recordAudit(db(), { event: 'logout', outcome: 'succeeded' });
    const sealer = startAuditSealer(db(), createLogger('test', 'silent'), 20);
    try {
      const deadline = Date.now() + 5_000;
      while ((await unsealed()) > 0 && Date.now() < deadline) await sleep(20);
      expect(await unsealed()).to.equal(0);
    } finally {
      await recordAudit(db(), { event: 'logout', outcome: 'succeeded' });
      await sealer.stop();
    }
    expect(await unsealed()).to.equal(0);
    expect(await verifyAuditChain(db())).to.deep.include({ ok: true, unsealed: 0 });
  });

  describe('the admin page', () => {
    it('shows the trail to the admin only, paged, filtered by user, event and date; bad filters get a 400 page', async () => {
      const admin = await loggedIn('admin');
      const all = await admin.get('/admin/audit').expect(200);
      expect(all.text).to.contain('Journal d’audit');
      expect(all.text.match(/class="audit-row"/g)).to.have.length(50);
      expect(all.text).to.contain('rel="next"');
      const page2 = await admin.get('/admin/audit?page=2').expect(200);
      expect(page2.text).to.contain('rel="prev"');
      const past = await admin.get('/admin/audit?page=900').expect(200);
      expect(past.text).to.contain('au-delà de la fin de la liste').and.not.contain('class="audit-row"');

      const byUser = await admin.get('/admin/audit?user=ALICE&event=logout').expect(200);
      expect(byUser.text.match(/class="audit-row"/g)).to.have.length(1);
      expect(byUser.text).to.contain('<td data-label="Utilisateur">alice</td>');
      const today = new Date().toISOString().slice(0, 10);
      const dated = await admin.get(`/admin/audit?event=registration&from=${today}&to=${today}`).expect(200);
      expect(dated.text).to.contain('<td data-label="Événement">registration</td>');
      const before = await admin.get('/admin/audit?to=2000-01-01').expect(200);
      expect(before.text).to.contain('Aucun événement.');

      for (const [query, message] of [
        ['from=2026-02-30', 'Date « Du » invalide'],
        ['to=demain', 'Date « Au » invalide'],
        ['event=nope', 'Événement inconnu.'],
        ['from=2026-12-05&to=2026-12-01', 'La date « Du » est après la date « Au ».'],
      ]) {
        const bad = await admin.get(`/admin/audit?${query}`);
        expect(bad.status, query).to.equal(400);
        expect(bad.text, query).to.contain(message);
      }
      const customer = await loggedIn('bob');
      await customer.get('/admin/audit').expect(403);
    });
  });
});

/** Tampering, as an owner of the database who drops the triggers first, is found by audit:verify. */
describeEachDatabase('audit:verify', ({ db, url, kind }) => {
  before(async () => {
    await migrate(db());
    for (let i = 1; i <= 5; i += 1) {
      await recordAudit(db(), { event: 'login.succeeded', outcome: 'succeeded', actorId: i, actor: `user${i}` });
    }
    await sealAuditTrail(db());
  });

  async function dropTriggers() {
    if (dbClient(db()) === 'pg') {
      await db().raw('drop trigger audit_append_only on audit_events');
    } else {
      await db().raw('drop trigger audit_append_only_update');
      await db().raw('drop trigger audit_append_only_delete');
    }
  }

  it('exits 0 on a whole chain, saying how many rows wait for the sealer, then 1 naming the first edited row, then the deleted one', async () => {
    expect(await auditVerify(url())).to.deep.equal({ code: 0, out: 'audit:verify: chain intact, 5 events\n' });
    await recordAudit(db(), { event: 'logout', outcome: 'succeeded' });
    expect(await auditVerify(url())).to.deep.equal({
      code: 0,
      out: 'audit:verify: chain intact, 5 events (and 1 newer not sealed yet: the services chain them within a second)\n',
    });
    await dropTriggers();
    await db()('audit_events').where({ seq: 3 }).update({ actor: 'mallory' });
    const edited = await auditVerify(url());
    expect(edited.code).to.equal(1);
    expect(edited.out).to.match(/chain broken after 2 good events at row id \d+ \(seq 3\): .*edited/);
    await db()('audit_events').where({ seq: 2 }).delete();
    const check = await verifyAuditChain(db());
    expect(check).to.deep.include({ ok: false, rows: 1 });
    expect((check as { brokenAt: string }).brokenAt).to.contain('seq 2 is missing (a row was deleted)');
  });

  it(`notices the last rows deleted (${kind}): the head says where the chain ends`, async () => {
    const fresh = await freshDatabase(kind);
    const { createDb } = await import('#shared/db.js');
    const other = createDb(fresh.url);
    try {
      await migrate(other);
      for (let i = 0; i < 3; i += 1) await recordAudit(other, { event: 'logout', outcome: 'succeeded' });
      await sealAuditTrail(other);
      if (dbClient(other) === 'pg') await other.raw('drop trigger audit_append_only on audit_events');
      else await other.raw('drop trigger audit_append_only_delete');
      await other('audit_events').where({ seq: 3 }).delete();
      const check = await verifyAuditChain(other);
      expect(check).to.deep.include({ ok: false, rows: 2 });
      expect((check as { brokenAt: string }).brokenAt).to.contain('the last rows were deleted');
    } finally {
      await other.destroy();
      fresh.cleanup();
    }
  });

  it('says in one line, exit 2, that a database has no audit table', async () => {
    const fresh = await freshDatabase(kind);
    try {
      const result = await auditVerify(fresh.url);
      expect(result.code).to.equal(2);
      expect(result.out).to.equal(
        'audit:verify: no audit_events table in this database (run npm run db:migrate first)\n',
      );
    } finally {
      fresh.cleanup();
    }
  });
});
