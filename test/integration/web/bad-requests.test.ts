import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import { describeEachDatabase } from '../../helpers/databases.js';
import { csrfFrom, startStack, type Stack } from '../../helpers/fixtures.js';

/**
 * What an attacker (or a confused client) sends to the forms: compressed bodies that do not
 * decompress, encodings nobody supports, the wrong method, JSON instead of a form. Each gets a
 * French error page with the right status, never a 500 and never "the form has expired".
 */
describeEachDatabase('web service: bad encodings, methods and content types', ({ db, url }) => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(db(), url());
  });
  after(() => stack.close());

  async function loginForm() {
    const agent = request.agent(stack.web.callback());
    const form = await agent.get('/login').expect(200);
    return { agent, csrf: csrfFrom(form.text) };
  }

  for (const encoding of ['gzip', 'deflate', 'br']) {
    it(`answers 400 with a French page to a corrupt ${encoding} body`, async () => {
      const { agent } = await loginForm();
      const res = await agent
        .post('/login')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .set('Content-Encoding', encoding)
        .send('username=alice&password=password123');
      expect(res.status).to.equal(400);
      expect(res.type).to.equal('text/html');
      expect(res.text).to.contain('Requête invalide').and.contain('ne se décompresse pas');
    });
  }

  it('reads a well-formed gzip, deflate or br form (the login goes through)', async () => {
    const compress: Record<string, (b: Buffer) => Buffer> = {
      gzip: gzipSync,
      deflate: deflateSync,
      br: brotliCompressSync,
    };
    for (const [encoding, fn] of Object.entries(compress)) {
      const { agent, csrf } = await loginForm();
      const body = fn(
        Buffer.from(new URLSearchParams({ username: 'alice', password: 'password123', _csrf: csrf }).toString()),
      );
      const res = await agent
        .post('/login')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .set('Content-Encoding', encoding)
        // Send the compressed bytes as they are (superagent would form-encode a Buffer).
        .serialize((bytes: unknown) => bytes as string)
        .send(body);
      expect(res.status, encoding).to.equal(302);
      expect(res.headers.location).to.equal('/dashboard');
    }
  });

  it('answers 415 to an unknown Content-Encoding, naming the accepted ones', async () => {
    const { agent, csrf } = await loginForm();
    const res = await agent
      .post('/login')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Encoding', 'compress')
      .send(`username=alice&password=password123&_csrf=${csrf}`);
    expect(res.status).to.equal(415);
    expect(res.text).to.contain('Format non pris en charge').and.contain('identity, gzip, deflate, br');
  });

  it('answers PUT /login with 405, an Allow header and the French error page', async () => {
    const { agent, csrf } = await loginForm();
    const res = await agent.put('/login').type('form').send({ username: 'alice', password: 'x', _csrf: csrf });
    expect(res.status).to.equal(405);
    expect(res.headers.allow).to.equal('GET, HEAD, POST');
    expect(res.type).to.equal('text/html');
    expect(res.text).to.contain('Méthode non autorisée').and.not.contain('Le formulaire a expiré');
    const del = await request(stack.web.callback()).delete('/transfer');
    expect(del.status).to.equal(405);
    expect(del.headers.allow).to.equal('GET, HEAD, POST');
    const health = await request(stack.web.callback()).post('/health');
    expect(health.status).to.equal(405);
    expect(health.headers.allow).to.equal('GET, HEAD');
  });

  it('answers a POST to a page that does not exist with 404, not "the form has expired"', async () => {
    const { agent, csrf } = await loginForm();
    for (const res of [
      await request(stack.web.callback()).post('/nowhere').type('form').send({ a: '1' }),
      await agent.post('/transfers/42').type('form').send({ _csrf: csrf }),
      await agent.delete('/nowhere'),
    ]) {
      expect(res.status).to.equal(404);
      expect(res.type).to.equal('text/html');
      expect(res.text).to.contain('Page introuvable').and.not.contain('Le formulaire a expiré');
    }
  });

  it('answers OPTIONS on a page with 204 and Allow', async () => {
    const options = await request(stack.web.callback()).options('/login');
    expect(options.status).to.equal(204);
    expect(options.headers.allow).to.equal('GET, HEAD, POST');
  });

  it('answers 415 to JSON or plain text sent to a form, not "the form has expired"', async () => {
    const { agent, csrf } = await loginForm();
    const json = await agent.post('/login').send({ username: 'alice', password: 'password123', _csrf: csrf });
    expect(json.status).to.equal(415);
    expect(json.text).to.contain('Format non pris en charge').and.contain('application/x-www-form-urlencoded');
    expect(json.text).not.to.contain('Le formulaire a expiré');
    const text = await agent.post('/register').set('Content-Type', 'text/plain').send('username=a');
    expect(text.status).to.equal(415);
  });
});
