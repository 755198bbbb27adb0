/** Wire format of account numbers, and the account limits both services show or enforce. */

/** "FT" and ten digits, e.g. FT4821730956. Settlement accounts are FT0000000001 (EUR), FT0000000002 (USD). */
export const ACCOUNT_NUMBER_PATTERN = /^FT\d{10}$/;

/** Account numbers are shown and typed with optional spaces and in any case. */
export function normalizeAccountNumber(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

/** The longest recipient (an account number with spaces, or a username) a transfer accepts. */
export const RECIPIENT_MAX_LENGTH = 64;

/** A user's accounts (the primary EUR one included). */
export const MAX_ACCOUNTS_PER_USER = 10;
