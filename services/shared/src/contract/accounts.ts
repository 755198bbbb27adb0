/** Wire format of account numbers, and the account limits both services show or enforce. */

/** "FT" and ten digits, e.g. FT4821730956. Settlement accounts are FT0000000001 (EUR), FT0000000002 (USD). */
export const ACCOUNT_NUMBER_PATTERN = /^FT\d{10}$/;

/**
 * Account numbers are shown and typed with optional spaces, dots, dashes or underscores, in any
 * case, full-width or not: "ft 4821-730.956" is FT4821730956.
 */
export function normalizeAccountNumber(input: string): string {
  return input
    .normalize('NFKC')
    .replace(/[\s._-]+/g, '')
    .toUpperCase();
}

/**
 * True when a text reads as an account number ("FT" then digits, whatever the spaces, separators,
 * case or width). Such a text is only ever an account number: the recipient field never reads it
 * as a username, and no username may have this shape (#shared/contract/usernames.ts).
 */
export function hasAccountNumberShape(input: string): boolean {
  return /^FT\d+$/.test(normalizeAccountNumber(input));
}

/** The longest recipient (an account number with spaces, or a username) a transfer accepts. */
export const RECIPIENT_MAX_LENGTH = 64;

/** A user's accounts (the primary EUR one included). */
export const MAX_ACCOUNTS_PER_USER = 10;
