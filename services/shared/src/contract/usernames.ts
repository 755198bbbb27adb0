/**
 * One identity per name: `Alice`, `alice` and `ａｌｉｃｅ` (full-width) are the same user. The key is
 * the name in Unicode compatibility form (NFKC), lower-cased. The web service stores it in
 * `users.username_key` (unique) and looks logins up by it; the transactions service resolves
 * "transfer to <username>" by it.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}
