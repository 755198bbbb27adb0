import { createHmac } from 'node:crypto';
import { usernameKey } from '#shared/contract/usernames.js';

/**
 * What a log line says about a username someone typed: a keyed hash (HMAC-SHA256 with SECRET_KEY,
 * 16 hex digits), never the text, since people often type their password in the username field.
 * The same name (any case) gives the same digest, so repeated failures on one name can be
 * followed in the logs; without the key nobody can test guesses against it.
 */
export function typedUsernameDigest(secretKey: string, username: string): string {
  return createHmac('sha256', secretKey)
    .update(`typed-username:${usernameKey(username)}`)
    .digest('hex')
    .slice(0, 16);
}
