import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import { signatureHeaders } from '#shared/signing.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { makeUser, migrate, TEST_SIGNING_KEY, transactionsApp, type TestUser } from '../../helpers/fixtures.js';
import type Koa from 'koa';

/**
 * The internal API refuses what it does not read before the signature is checked, as JSON errors:
 * compressed bodies (the web client never compresses) → 415, the wrong method → 405 with Allow,
 * another content type → 415. Never a 500.
 */
describeEachDatabase('transactions API: bad encodings, methods and content types', ({ db }) => {
  let app: Koa;
  let alice: TestUser;

  before(async () => {
    await migrate(db());
    app = transactionsApp(db());
    alice = await makeUser(db(), 'alice');
  });

  function expectJsonError(res: request.Response, status: number, code: string) {
    expect(res.status).to.equal(status);
    expect(res.type).to.equal('application/json');
    expect(res.body.error.code).to.equal(code);
    expect(res.body.error.message).to.be.a('string').and.not.equal('');
  }

  function signedPost(path: string, body: Buffer | string, headers: Record<string, string>) {
    const signed = signatureHeaders(TEST_SIGNING_KEY, {
      method: 'POST',
      path,
      body: body.toString(),
      actingUserId: String(alice.id),
    });
    return request(app.callback()).post(path).set(signed).set(headers).send(body);
  }

  for (const encoding of ['gzip', 'deflate', 'br', 'compress']) {
    it(`refuses a ${encoding} body with 415 JSON, signed or not`, async () => {
      const headers = { 'Content-Type': 'application/json', 'Content-Encoding': encoding };
      const unsigned = await request(app.callback()).post('/api/transfers').set(headers).send('not compressed');
      expectJsonError(unsigned, 415, 'unsupported_encoding');
      expect(unsigned.body.error.message).to.contain('identity');
      const signed = await signedPost('/api/accounts', gzipSync('{"currency":"EUR"}'), headers);
      expectJsonError(signed, 415, 'unsupported_encoding');
    });
  }

  it('answers a wrong method with 405 JSON and Allow, before the signature', async () => {
    const put = await request(app.callback()).put('/api/accounts').send({});
    expectJsonError(put, 405, 'method_not_allowed');
    expect(put.headers.allow).to.equal('GET, HEAD, POST');
    const get = await request(app.callback()).get('/api/transfers');
    expectJsonError(get, 405, 'method_not_allowed');
    expect(get.headers.allow).to.equal('POST');
    const ready = await request(app.callback()).delete('/ready');
    expectJsonError(ready, 405, 'method_not_allowed');
    expect(ready.headers.allow).to.equal('GET, HEAD');
  });

  it('answers a path no route has with 404 JSON, signed or not', async () => {
    const unsigned = await request(app.callback()).post('/api/nowhere').send({});
    expectJsonError(unsigned, 404, 'not_found');
    const signed = await signedPost('/api/nowhere', '{}', { 'Content-Type': 'application/json' });
    expectJsonError(signed, 404, 'not_found');
    expect(signed.body.error.requestId).to.be.a('string');
    expectJsonError(await request(app.callback()).get('/nowhere'), 404, 'not_found');
  });

  it('answers a form or text body with 415 JSON, signed or not', async () => {
    const form = await signedPost('/api/accounts', 'currency=EUR', {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expectJsonError(form, 415, 'unsupported_media_type');
    expect(form.body.error.message).to.contain('application/json');
    const text = await request(app.callback()).post('/api/transfers').set('Content-Type', 'text/plain').send('x');
    expectJsonError(text, 415, 'unsupported_media_type');
  });
});
