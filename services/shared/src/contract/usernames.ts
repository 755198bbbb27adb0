/**
 * One identity per name: `Alice`, `alice` and `ａｌｉｃｅ` (full-width) are the same user. The key is
 * the name in Unicode compatibility form (NFKC), lower-cased. The web service stores it in
 * `users.username_key` (unique) and looks logins up by it; the transactions service resolves
 * "transfer to <username>" by it.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

/**
 * THE list of names nobody may register, compared without case, width, spaces or separators
 * ("Ban-que" is "banque"): names that would pass for the bank or its staff in another user's
 * history or in a message. An administrator created by the operator (the demo `admin`) may hold
 * one; registration never gives one out.
 */
export const RESERVED_USERNAMES: readonly string[] = [
  'admin',
  'administrateur',
  'administrator',
  'bank',
  'banque',
  'conseiller',
  'fintech',
  'fintechtest',
  'root',
  'security',
  'securite',
  'service',
  'serviceclient',
  'settlement',
  'support',
  'system',
  'systeme',
];

/** Why a username may not be given out, or undefined when it may. */
export type UsernameRuleBroken = 'account_number_shape' | 'reserved';

/**
 * The identity rule of a new username (on top of its characters, checked by the web form): it must
 * not read as an account number and must not be a reserved name. `compact` removes what the
 * comparison ignores.
 */
export function usernameRuleBroken(username: string): UsernameRuleBroken | undefined {
  const compact = usernameKey(username).replace(/[\s._-]+/g, '');
  if (/^ft\d+$/.test(compact)) return 'account_number_shape';
  if (RESERVED_USERNAMES.includes(compact)) return 'reserved';
  return undefined;
}
