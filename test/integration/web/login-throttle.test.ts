import { expect } from 'chai';
import request from 'supertest';
import { LoginThrottle, purgeExpiredAttempts } from '#web/auth/login-throttle.js';
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
    beforeEach(() => db()('login_throttle').where('key', 'like', 'ip:%').delete());

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

  describe('counters in the database', () => {
    const limits = {
      maxPerUser: 3,
      maxPerIp: 5,
      windowMs: 60_000,
      maxInFlightPerUser: 2,
      maxInFlightPerIp: 8,
      inFlightLeaseMs: 10_000,
    };
    let now = 1_000_000;
    const clock = () => now;

    it('reserves before the check, blocks over the limit until the window ends, then starts again', async () => {
      const throttle = new LoginThrottle(db(), limits, clock);
      const user = unique('window');
      for (let i = 0; i < 3; i += 1) {
        const attempt = await throttle.reserve(user, '10.0.0.1');
        if (attempt.blocked) expect.fail('blocked too early');
        await attempt.settle('failed');
      }
      now += 20_000;
      expect(await throttle.reserve(user, '10.0.0.2')).to.deep.equal({ blocked: true, retryAfterS: 40 });
      now += 40_000;
      expect((await throttle.reserve(user, '10.0.0.2')).blocked).to.equal(false);
    });

    it('caps attempts in flight per username, and gives back an attempt that was not checked', async () => {
      const throttle = new LoginThrottle(db(), limits, clock);
      const user = unique('flight');
      const first = await throttle.reserve(user, '10.0.0.3');
      const second = await throttle.reserve(user, '10.0.0.3');
      expect(await throttle.reserve(user, '10.0.0.3')).to.deep.equal({ blocked: true, retryAfterS: 1 });
      if (first.blocked || second.blocked) expect.fail('blocked too early');
      await first.settle('unchecked');
      await second.settle('unchecked');
      const counter = await db()('login_throttle')
        .where({ key: `u:${user.toLowerCase()}` })
        .first();
      expect(Number(counter.attempts)).to.equal(0);
      expect(Number(counter.in_flight)).to.equal(0);
    });

    it('forgets a user’s failures at a success; an address counts only failures', async () => {
      const throttle = new LoginThrottle(db(), limits, clock);
      const user = unique('forgive');
      // Six attempts for one user (limit 3), four of them failed: the success in between forgets the count.
      for (const outcome of ['failed', 'failed', 'succeeded', 'failed', 'failed', 'succeeded'] as const) {
        const attempt = await throttle.reserve(user, '10.0.0.4');
        if (attempt.blocked) expect.fail(`blocked before ${outcome}`);
        await attempt.settle(outcome);
      }
      const fifth = await throttle.reserve(unique('other'), '10.0.0.4');
      if (fifth.blocked) expect.fail('the address was blocked after 4 failures (limit 5)');
      await fifth.settle('failed');
      expect((await throttle.reserve(unique('other'), '10.0.0.4')).blocked).to.equal(true);
    });

    it('lets many users behind one address log in at once, and still bounds the checks from it', async () => {
      const throttle = new LoginThrottle(db(), limits, clock);
      // Eight colleagues behind one NAT log in together: more than the 5 failures an address may have.
      const office = await Promise.all(Array.from({ length: 8 }, () => throttle.reserve(unique('office'), '10.0.0.6')));
      expect(office.map((a) => a.blocked)).to.deep.equal(Array<boolean>(8).fill(false));
      expect(await throttle.reserve(unique('office'), '10.0.0.6'), 'a ninth at once').to.deep.equal({
        blocked: true,
        retryAfterS: 1,
      });
      // Five of them mistype: the address has its 5 failures; the 3 who got in do not count.
      for (const [i, attempt] of office.entries()) {
        if (!attempt.blocked) await attempt.settle(i < 5 ? 'failed' : 'succeeded');
      }
      expect(await throttle.reserve(unique('office'), '10.0.0.6')).to.deep.equal({ blocked: true, retryAfterS: 60 });
    });

    it('purges counters whose window has ended', async () => {
      const throttle = new LoginThrottle(db(), limits, clock);
      const attempt = await throttle.reserve(unique('purge'), '10.0.0.5');
      if (attempt.blocked) expect.fail('blocked');
      await attempt.settle('failed');
      const key = (await db()('login_throttle').where('key', 'like', 'u:purge%').first()).key as string;
      await purgeExpiredAttempts(db(), now + limits.windowMs - 1);
      expect(await db()('login_throttle').where({ key }).first(), 'window still open').to.not.equal(undefined);
      expect(await purgeExpiredAttempts(db(), now + limits.windowMs)).to.be.at.least(2);
      expect(await db()('login_throttle').where({ key }).first()).to.equal(undefined);
    });
  });
});
