import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { LoginGuard, progressiveDelayMs } from '#web/auth/login-guard.js';
import { purgeExpiredLimits } from '#web/auth/rate-limits.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  csrfFrom,
  startStack,
  submitLogin as login,
  uniqueName as unique,
  webReplica,
  type Stack,
} from '../../helpers/fixtures.js';

/** The login form of a fresh visitor, ready to be submitted: its agent and CSRF token. */
async function openLoginForm(web: ReturnType<typeof webReplica>['web']) {
  const agent = request.agent(web.callback());
  const form = await agent.get('/login').expect(200);
  return { agent, csrf: csrfFrom(form.text) };
}

describeEachDatabase('login throttle', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  it('checks at most 5 passwords out of 25 simultaneous logins for one user (24 wrong)', async () => {
    const replica = webReplica(stack, url());
    try {
      const forms = await Promise.all(Array.from({ length: 25 }, () => openLoginForm(replica.web)));
      const answers = await Promise.all(
        forms.map(({ agent, csrf }, i) =>
          agent
            .post('/login')
            .type('form')
            .send({ username: 'bob', password: i === 12 ? 'password123' : `wrong-${i}`, _csrf: csrf }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(replica.checks(), 'passwords checked').to.be.within(1, 5);
      expect(statuses.filter((s) => s === 429)).to.have.length(25 - replica.checks());
      for (const blocked of answers.filter((a) => a.status === 429)) {
        expect(Number(blocked.headers['retry-after'])).to.be.at.least(1);
        expect(blocked.text).to.contain('Trop de tentatives de connexion.');
      }
      expect(
        statuses.every((s) => [302, 401, 429].includes(s)),
        statuses.join(' '),
      ).to.equal(true);
    } finally {
      await replica.close();
    }
  });

  it('is shared by two instances on one database: 3 failures on one and 2 on the other block both', async () => {
    const blue = webReplica(stack, url());
    const green = webReplica(stack, url());
    try {
      const username = unique('shared');
      for (let i = 0; i < 3; i += 1) {
        expect((await login(request.agent(blue.web.callback()), username, `wrong-${i}`)).status).to.equal(401);
      }
      for (let i = 0; i < 2; i += 1) {
        expect((await login(request.agent(green.web.callback()), username, `wrong-${i}`)).status).to.equal(401);
      }
      expect((await login(request.agent(blue.web.callback()), username, 'again')).status).to.equal(429);
      expect((await login(request.agent(green.web.callback()), username, 'again')).status).to.equal(429);
      expect(blue.checks() + green.checks()).to.equal(5);
    } finally {
      await blue.close();
      await green.close();
    }
  });

  it('counts a username in any case as one: ALICE, Alice and alice share the budget', async () => {
    const username = unique('casey');
    const spellings = [username.toUpperCase(), username, username.toUpperCase(), username, username];
    for (const spelling of spellings) {
      expect((await login(request.agent(stack.web.callback()), spelling, 'wrong-pass')).status).to.equal(401);
    }
    expect((await login(request.agent(stack.web.callback()), username, 'wrong-pass')).status).to.equal(429);
  });

  describe('per-address counting and X-Forwarded-For', () => {
    // Earlier tests failed logins from this machine's address: start each count afresh.
    beforeEach(() => db()('rate_limits').where('key', 'like', 'login_ip:%').delete());

    async function failFrom(web: ReturnType<typeof webReplica>['web'], forwardedFor: string) {
      const agent = request.agent(web.callback());
      const form = await agent.get('/login').expect(200);
      return agent
        .post('/login')
        .set('X-Forwarded-For', forwardedFor)
        .type('form')
        .send({ username: unique('spray'), password: 'wrong-pass', _csrf: csrfFrom(form.text) });
    }

    it('ignores X-Forwarded-For from a peer that is not the configured proxy: rotating it does not help', async () => {
      const replica = webReplica(stack, url(), { TRUST_PROXY: '10.9.9.9', LOGIN_MAX_FAILURES_PER_IP: '3' });
      try {
        // The addresses the attacker claims are all 127.0.0.1 to the throttle (the socket's peer).
        for (let i = 0; i < 3; i += 1) expect((await failFrom(replica.web, `203.0.113.${i + 1}`)).status).to.equal(401);
        expect((await failFrom(replica.web, '203.0.113.99')).status).to.equal(429);
      } finally {
        await replica.close();
      }
    });

    it('counts per client address as the configured proxy hop reports it', async () => {
      const replica = webReplica(stack, url(), { TRUST_PROXY: '127.0.0.1/8,::1', LOGIN_MAX_FAILURES_PER_IP: '3' });
      try {
        for (let i = 0; i < 3; i += 1) expect((await failFrom(replica.web, '198.51.100.7')).status).to.equal(401);
        expect((await failFrom(replica.web, '198.51.100.7')).status).to.equal(429);
        expect((await failFrom(replica.web, '198.51.100.8')).status, 'another client').to.equal(401);
      } finally {
        await replica.close();
      }
    });
  });

  describe('an attack on one username from many addresses (through the trusted proxy)', () => {
    it('keeps the owner in: 20 addresses × 50 wrong passwords while the owner logs in from their own', async function () {
      this.timeout(120_000);
      const replica = webReplica(stack, url(), { TRUST_PROXY: '127.0.0.1/8,::1', LOGIN_MAX_DELAY_MS: '300' });
      // One listening server for the 1,000 requests (supertest would otherwise open one per request).
      const server = createServer(replica.web.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const openForm = async () => {
        const agent = request.agent(base);
        const form = await agent.get('/login').expect(200);
        return { agent, csrf: csrfFrom(form.text) };
      };
      try {
        const attacker = async (address: string) => {
          const { agent, csrf } = await openForm();
          const statuses: number[] = [];
          for (let i = 0; i < 50; i += 1) {
            const res = await agent
              .post('/login')
              .set('X-Forwarded-For', address)
              .type('form')
              .send({ username: 'charlie', password: `guess-${address}-${i}`, _csrf: csrf });
            statuses.push(res.status);
          }
          return statuses;
        };
        const owner = async () => {
          // The owner tries while the attack is under way.
          await new Promise((resolve) => setTimeout(resolve, 300));
          const { agent, csrf } = await openForm();
          const started = Date.now();
          const res = await agent
            .post('/login')
            .set('X-Forwarded-For', '198.51.100.200')
            .type('form')
            .send({ username: 'charlie', password: 'password123', _csrf: csrf });
          return { res, agent, tookMs: Date.now() - started };
        };
        const [mine, ...attacks] = await Promise.all([
          owner(),
          ...Array.from({ length: 20 }, (_, i) => attacker(`203.0.113.${i + 1}`)),
        ]);
        expect(mine.res.status, 'the owner gets in').to.equal(302);
        expect(mine.res.headers.location).to.equal('/dashboard');
        await mine.agent.get('/dashboard').expect(200);
        // Each address had its 5 checks for this name, then waits: 100 guesses checked, 900 refused.
        const all = attacks.flat();
        expect(all.filter((s) => s === 401)).to.have.length(100);
        expect(all.filter((s) => s === 429)).to.have.length(900);
        expect(replica.checks(), 'passwords checked').to.equal(101);
        // Once the attack has failed enough, each attempt on the name is slowed, the owner's too.
        const { res: again, tookMs } = await owner();
        expect(again.status).to.equal(302);
        expect(tookMs, 'delay of an attacked name').to.be.at.least(300);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await replica.close();
      }
    });

    it('slows a name down progressively, without refusing it', () => {
      const limits = { slowAfter: 10, maxDelayMs: 3000 };
      expect([0, 9, 10, 19, 20, 30, 40, 50, 1000].map((f) => progressiveDelayMs(f, limits))).to.deep.equal([
        0, 0, 250, 250, 500, 1000, 2000, 3000, 3000,
      ]);
    });
  });

  describe('counters in the database (rate-limiter-flexible)', () => {
    const limits = { maxPerUserAndIp: 3, maxPerIp: 5, windowS: 1, slowAfter: 100, maxDelayMs: 0 };

    it('takes a point before the check, refuses over the limit until the window ends, then starts again', async () => {
      const guard = new LoginGuard(db(), limits);
      const user = unique('window');
      for (let i = 0; i < 3; i += 1) {
        const attempt = await guard.admit(user, '10.0.0.1');
        if (attempt.blocked) expect.fail('blocked too early');
        await attempt.settle('failed');
      }
      const blocked = await guard.admit(user, '10.0.0.1');
      expect(blocked).to.deep.equal({ blocked: true, retryAfterS: 1 });
      expect((await guard.admit(user, '10.0.0.2')).blocked, 'another address').to.equal(false);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await guard.admit(user, '10.0.0.1')).blocked, 'a new window').to.equal(false);
    });

    it('forgets a pair’s failures at a success and gives an unchecked attempt back', async () => {
      const guard = new LoginGuard(db(), { ...limits, windowS: 60 });
      const user = unique('forgive');
      for (const outcome of ['failed', 'failed', 'succeeded', 'failed', 'unchecked', 'failed'] as const) {
        const attempt = await guard.admit(user, '10.0.0.4');
        if (attempt.blocked) expect.fail(`blocked before ${outcome}`);
        await attempt.settle(outcome);
      }
      const third = await guard.admit(user, '10.0.0.4');
      if (third.blocked) expect.fail('blocked after 2 failures since the success');
      await third.settle('failed');
      expect((await guard.admit(user, '10.0.0.4')).blocked).to.equal(true);
    });

    it('purges counters whose window has ended, with the housekeeping', async () => {
      const guard = new LoginGuard(db(), limits);
      const attempt = await guard.admit(unique('purge'), '10.0.0.5');
      if (attempt.blocked) expect.fail('blocked');
      await attempt.settle('failed');
      const live = await db()('rate_limits').where('key', 'like', 'login_ip:10.0.0.5').first();
      expect(live, 'the address counter').to.not.equal(undefined);
      await purgeExpiredLimits(db(), Number(live.expire) - 1);
      expect(await db()('rate_limits').where({ key: live.key }).first(), 'window still open').to.not.equal(undefined);
      expect(await purgeExpiredLimits(db(), Number(live.expire) + 1)).to.be.at.least(1);
      expect(await db()('rate_limits').where({ key: live.key }).first()).to.equal(undefined);
    });
  });
});
