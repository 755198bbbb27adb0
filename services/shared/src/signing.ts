import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures for web → transactions calls. The signed string binds the method, the
 * path with its query, the time, a hash of the body and the acting user, so none of them can be
 * changed or replayed later than the allowed window.
 */
export const SIGNATURE_HEADERS = {
  keyId: 'x-signature-key-id',
  timestamp: 'x-signature-timestamp',
  signature: 'x-signature',
  actingUser: 'x-acting-user-id',
} as const;

export const MAX_CLOCK_SKEW_S = 30;

export interface SigningKey {
  keyId: string;
  secret: string;
}

export interface SignedParts {
  method: string;
  path: string;
  body: string;
  actingUserId: string;
  timestamp: number;
}

function canonical(parts: SignedParts): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return [parts.method.toUpperCase(), parts.path, String(parts.timestamp), bodyHash, parts.actingUserId].join('\n');
}

export function sign(key: SigningKey, parts: SignedParts): string {
  return createHmac('sha256', key.secret).update(canonical(parts)).digest('hex');
}

/** Headers to add to an outgoing request. `nowS` is injectable for tests. */
export function signatureHeaders(
  key: SigningKey,
  req: { method: string; path: string; body: string; actingUserId: string },
  nowS = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    [SIGNATURE_HEADERS.keyId]: key.keyId,
    [SIGNATURE_HEADERS.timestamp]: String(nowS),
    [SIGNATURE_HEADERS.actingUser]: req.actingUserId,
    [SIGNATURE_HEADERS.signature]: sign(key, { ...req, timestamp: nowS }),
  };
}

export type VerifyResult = { ok: true; actingUserId: string } | { ok: false; reason: string };

export function verifySignature(
  key: SigningKey,
  req: { method: string; path: string; body: string; headers: Record<string, string | string[] | undefined> },
  nowS = Math.floor(Date.now() / 1000),
): VerifyResult {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? undefined : value;
  };
  const keyId = header(SIGNATURE_HEADERS.keyId);
  const timestampText = header(SIGNATURE_HEADERS.timestamp);
  const signature = header(SIGNATURE_HEADERS.signature);
  const actingUserId = header(SIGNATURE_HEADERS.actingUser) ?? '';
  if (!keyId || !timestampText || !signature) return { ok: false, reason: 'missing signature headers' };
  if (keyId !== key.keyId) return { ok: false, reason: 'unknown key id' };
  if (!/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: 'bad timestamp' };
  const timestamp = Number(timestampText);
  if (Math.abs(nowS - timestamp) > MAX_CLOCK_SKEW_S) return { ok: false, reason: 'expired signature' };
  if (!/^[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed signature' };
  const expected = Buffer.from(sign(key, { ...req, actingUserId, timestamp }), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: 'bad signature' };
  return { ok: true, actingUserId };
}
