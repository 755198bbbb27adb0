import { expect } from 'chai';
import { signatureHeaders, verifySignature } from '#shared/signing.js';

const key = { keyId: 'k1', secret: 's'.repeat(40) };
const now = 1_800_000_000;
const request = { method: 'POST', path: '/api/transfers?x=1', body: '{"amount":"1.00"}', actingUserId: '7' };

function verify(headers: Record<string, string>, overrides: Partial<typeof request> = {}, at = now) {
  const req = { ...request, ...overrides };
  return verifySignature(key, { method: req.method, path: req.path, body: req.body, headers }, at);
}

describe('service-to-service signing', () => {
  const headers = signatureHeaders(key, request, now);

  it('accepts a request signed with the shared key and returns the acting user', () => {
    expect(verify(headers)).to.deep.equal({ ok: true, actingUserId: '7' });
    expect(verify(headers, {}, now + 30).ok).to.equal(true);
  });

  it('rejects a tampered body, path, method or acting user', () => {
    expect(verify(headers, { body: '{"amount":"100.00"}' }).ok).to.equal(false);
    expect(verify(headers, { path: '/api/transfers?x=2' }).ok).to.equal(false);
    expect(verify(headers, { method: 'GET' }).ok).to.equal(false);
    expect(verify({ ...headers, 'x-acting-user-id': '8' }).ok).to.equal(false);
  });

  it('rejects expired or future timestamps beyond 30 seconds', () => {
    expect(verify(headers, {}, now + 31)).to.deep.equal({ ok: false, reason: 'expired signature' });
    expect(verify(headers, {}, now - 31).ok).to.equal(false);
  });

  it('rejects missing headers, another key id, another secret and malformed signatures', () => {
    expect(verify({}).ok).to.equal(false);
    expect(verify({ ...headers, 'x-signature-key-id': 'k2' }).ok).to.equal(false);
    expect(verify({ ...headers, 'x-signature': 'zz' }).ok).to.equal(false);
    const other = signatureHeaders({ keyId: 'k1', secret: 'o'.repeat(40) }, request, now);
    expect(verify(other).ok).to.equal(false);
  });
});
