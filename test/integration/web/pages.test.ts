import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import {
  csrfFrom,
  startStack,
  submitLogin as login,
  uniqueName as unique,
  type Agent,
  type Stack,
} from '../../helpers/fixtures.js';

describeEachDatabase('web service', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  describe('health and metadata', () => {
    it('GET /health answers 200 {"status":"ok"}', async () => {
      const res = await request(stack.web.callback()).get('/health').expect(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
    });

    it('GET /ready is 200 while the database answers', async () => {
      const res = await request(stack.web.callback()).get('/ready').expect(200);
      expect(res.body.status).to.equal('ready');
    });

    it('GET /version names the service, version and colour, also in X-App-Color', async () => {
      const res = await request(stack.web.callback()).get('/version').expect(200);
      expect(res.body).to.deep.equal({ service: 'web', version: '1.0.0', color: 'local' });
      expect(res.headers['x-app-color']).to.equal('local');
    });

    it('echoes a well-formed X-Request-Id and replaces a malicious one', async () => {
      const ok = await request(stack.web.callback()).get('/health').set('X-Request-Id', 'abc-123');
      expect(ok.headers['x-request-id']).to.equal('abc-123');
      const bad = await request(stack.web.callback()).get('/health').set('X-Request-Id', 'a b\tc');
      expect(bad.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe('login, dashboard, logout', () => {
    it('redirects / to /login when logged out', async () => {
      const res = await request(stack.web.callback()).get('/').expect(302);
      expect(res.headers.location).to.equal('/login');
    });

    it('logs alice in with a new session id, shows her dashboard with balance and movements', async () => {
      const agent = request.agent(stack.web.callback());
      const form = await agent.get('/login').expect(200);
      const anonymousCookie = String(form.headers['set-cookie']);
      const res = await login(agent, 'alice', 'password123');
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/dashboard');
      const sid = /bank\.sid=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];
      expect(sid).to.be.a('string').and.have.length.greaterThan(40);
      expect(anonymousCookie).to.not.contain(sid);
      const dashboard = await agent.get('/dashboard').expect(200);
      expect(dashboard.text).to.contain('alice');
      expect(dashboard.text).to.contain('1\u202f000,00\u00a0€');
      const root = await agent.get('/').expect(302);
      expect(root.headers.location).to.equal('/dashboard');
    });

    it('sets HttpOnly SameSite=Lax cookies, Secure only behind HTTPS', async () => {
      const res = await request(stack.web.callback()).get('/login');
      const cookie = String(res.headers['set-cookie']);
      expect(cookie)
        .to.match(/httponly/i)
        .and.match(/samesite=lax/i);
      expect(cookie).to.not.match(/secure/i);
    });

    it('answers a wrong password and an unknown user with the same generic 401 message', async () => {
      const wrong = await login(request.agent(stack.web.callback()), 'bob', 'not-the-password');
      const unknown = await login(request.agent(stack.web.callback()), unique('ghost'), 'whatever123');
      expect(wrong.status).to.equal(401);
      expect(unknown.status).to.equal(401);
      expect(wrong.text).to.contain('Identifiant ou mot de passe incorrect.');
      expect(unknown.text).to.contain('Identifiant ou mot de passe incorrect.');
    });

    it('refuses /dashboard without a session', async () => {
      const res = await request(stack.web.callback()).get('/dashboard').expect(302);
      expect(res.headers.location).to.equal('/login');
    });

    it('GET /logout only shows a confirmation; POST /logout destroys the session server-side', async () => {
      const agent = request.agent(stack.web.callback());
      const res = await login(agent, 'charlie', 'password123');
      const cookies = (res.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
      const confirm = await agent.get('/logout').expect(200);
      await agent.get('/dashboard').expect(200);
      await agent
        .post('/logout')
        .type('form')
        .send({ _csrf: csrfFrom(confirm.text) })
        .expect(302);
      // Replaying the old cookie no longer reaches the dashboard.
      const replay = await request(stack.web.callback()).get('/dashboard').set('Cookie', cookies).expect(302);
      expect(replay.headers.location).to.equal('/login');
    });

    it('blocks a username with 429 after too many wrong passwords, even with the right one', async () => {
      const username = unique('victim');
      const agent = request.agent(stack.web.callback());
      const form = await agent.get('/register');
      await agent
        .post('/register')
        .type('form')
        .send({ username, password: 'correct-horse', _csrf: csrfFrom(form.text) })
        .expect(302);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i += 1) statuses.push((await login(agent, username, `wrong-${i}`)).status);
      expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).to.deep.equal([429, 429, 429, 429, 429]);
      const blocked = await login(agent, username, 'correct-horse');
      expect(blocked.status).to.equal(429);
      // Until the 15-minute window that the first failure opened ends.
      expect(Number(blocked.headers['retry-after'])).to.be.within(800, 900);
      expect(blocked.text).to.contain('Trop de tentatives de connexion. Réessayez dans 15 min.');
    });
  });

  describe('CSRF and security headers', () => {
    it('refuses a POST without _csrf (403) and one with a forged token', async () => {
      const agent = request.agent(stack.web.callback());
      await agent.get('/login');
      const none = await agent.post('/login').type('form').send({ username: 'alice', password: 'password123' });
      expect(none.status).to.equal(403);
      expect(none.text).to.contain('Le formulaire a expiré');
      const forged = await agent
        .post('/login')
        .type('form')
        .send({ username: 'alice', password: 'password123', _csrf: 'x'.repeat(43) });
      expect(forged.status).to.equal(403);
    });

    it('sends the security headers on pages, and no-store caching', async () => {
      const res = await request(stack.web.callback()).get('/login');
      expect(res.headers['content-security-policy']).to.equal(
        "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'",
      );
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
      expect(res.headers['permissions-policy']).to.be.a('string');
      expect(res.headers['cross-origin-opener-policy']).to.equal('same-origin');
      expect(res.headers['cross-origin-resource-policy']).to.equal('same-origin');
      expect(res.headers['cross-origin-embedder-policy']).to.equal('require-corp');
      expect(res.headers['cache-control']).to.equal('no-store, no-cache, must-revalidate');
    });

    it('serves the stylesheets with their content type and no inline styles in pages', async () => {
      for (const path of ['/static/style.css', '/static/css/dashboard.css', '/static/css/login.css']) {
        const res = await request(stack.web.callback()).get(path).expect(200);
        expect(res.headers['content-type']).to.contain('text/css');
      }
      const page = await request(stack.web.callback()).get('/login');
      expect(page.text).to.not.match(/<script|style="|<style/);
      await request(stack.web.callback()).get('/static/../package.json').expect(404);
    });
  });

  describe('registration and bad input', () => {
    async function register(agent: Agent, fields: Record<string, unknown>) {
      const form = await agent.get('/register');
      return agent
        .post('/register')
        .type('form')
        .send({ _csrf: csrfFrom(form.text), ...fields });
    }

    it('registers a new user who can then log in and sees a zero balance', async () => {
      const agent = request.agent(stack.web.callback());
      const username = unique('newbie');
      const res = await register(agent, { username, password: 'longenough1' });
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/login');
      const loginPage = await agent.get('/login');
      expect(loginPage.text).to.contain('Compte créé');
      expect((await login(agent, username, 'longenough1')).status).to.equal(302);
      const dashboard = await agent.get('/dashboard').expect(200);
      expect(dashboard.text).to.contain(username).and.contain('0,00\u00a0€');
    });

    it('refuses a taken username with 409 and writes nothing', async () => {
      const before = await db()('users').count<{ n: number }[]>({ n: '*' });
      const res = await register(request.agent(stack.web.callback()), { username: 'alice', password: 'longenough1' });
      expect(res.status).to.equal(409);
      expect(res.text).to.contain('déjà pris');
      const after = await db()('users').count<{ n: number }[]>({ n: '*' });
      expect(Number(after[0]?.n)).to.equal(Number(before[0]?.n));
    });

    it('refuses short passwords and bad usernames with 422 and clear messages', async () => {
      const agent = request.agent(stack.web.callback());
      const short = await register(agent, { username: unique('u'), password: 'short' });
      expect(short.status).to.equal(422);
      expect(short.text).to.contain('au moins 8 caractères');
      const bad = await register(agent, { username: 'a b<script>', password: 'longenough1' });
      expect(bad.status).to.equal(422);
      expect(bad.text).to.contain('Nom d’utilisateur invalide');
      expect(bad.text).to.not.contain('<script>');
      const empty = await register(agent, {});
      expect(empty.status).to.equal(422);
    });

    it('refuses arrays, unknown fields and too-long values with 400, never 500', async () => {
      const agent = request.agent(stack.web.callback());
      const form = await agent.get('/register');
      const csrf = csrfFrom(form.text);
      const array = await agent
        .post('/register')
        .type('form')
        .send(`username=a&username=b&password=longenough1&_csrf=${csrf}`);
      expect(array.status).to.equal(400);
      const unknown = await agent
        .post('/register')
        .type('form')
        .send({ username: unique('x'), password: 'longenough1', is_admin: 'true', _csrf: csrf });
      expect(unknown.status).to.equal(400);
      expect(unknown.text).to.contain('Champ inattendu');
      const long = await agent
        .post('/register')
        .type('form')
        .send({ username: 'x'.repeat(65), password: 'longenough1', _csrf: csrf });
      expect(long.status).to.equal(400);
      const longPassword = await agent
        .post('/login')
        .type('form')
        .send({ username: 'alice', password: 'p'.repeat(129), _csrf: csrf });
      expect(longPassword.status).to.equal(400);
    });

    it('refuses an oversized body with 413 and a malformed one with 400', async () => {
      const agent = request.agent(stack.web.callback());
      const big = await agent
        .post('/register')
        .type('form')
        .send(`username=${'x'.repeat(20_000)}`);
      expect(big.status).to.equal(413);
      expect(big.text).to.contain('trop volumineuse');
    });

    it('answers unknown routes with a 404 page', async () => {
      const res = await request(stack.web.callback()).get('/no-such-page').expect(404);
      expect(res.text).to.contain('Page introuvable');
      expect(res.headers['content-type']).to.contain('text/html');
    });
  });
});
