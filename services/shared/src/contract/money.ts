import { unprocessable } from '../errors.js';

/**
 * Wire format of money between the web and the transactions services (and at every edge).
 * Money is an integer number of minor units (cents) everywhere inside the system, and a decimal
 * string with at most two decimals at the edges. Parsing works on the string's digits, so no
 * float ever holds an amount. Up to 1,000,000.00 per operation fits far inside 2^53.
 */
export const MAX_AMOUNT_CENTS = 100_000_000;
/** The longest amount text accepted anywhere (form field, API field). */
export const AMOUNT_MAX_LENGTH = 20;
const AMOUNT = /^(\d{1,7})(?:\.(\d{1,2}))?$/;

export const CURRENCIES = ['EUR', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && (CURRENCIES as readonly string[]).includes(value);
}

/** Parses a user-typed amount such as "12", "12.3" or "12.34" into cents; rejects anything else. */
export function parseAmount(input: unknown): number {
  if (typeof input !== 'string' || input.trim() === '') {
    throw unprocessable('invalid_amount', 'Le montant est obligatoire (par exemple 12.34).');
  }
  const text = input.trim();
  if (text.length > AMOUNT_MAX_LENGTH) {
    throw unprocessable('invalid_amount', 'Le montant est trop long.');
  }
  const match = AMOUNT.exec(text);
  if (!match) {
    throw unprocessable(
      'invalid_amount',
      'Montant invalide : utilisez des chiffres avec un point et au plus deux décimales (par exemple 12.34).',
    );
  }
  const units = Number(match[1]);
  const cents = Number((match[2] ?? '').padEnd(2, '0'));
  const total = units * 100 + cents;
  if (total <= 0) throw unprocessable('invalid_amount', 'Le montant doit être strictement positif.');
  if (total > MAX_AMOUNT_CENTS) {
    throw unprocessable('amount_too_large', 'Le montant ne peut pas dépasser 1 000 000.00.');
  }
  return total;
}

/** Formats cents as a plain decimal string: 1234 → "12.34", -5 → "-0.05". */
export function formatCents(cents: number | string | bigint): string {
  const value = BigInt(cents);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const units = abs / 100n;
  const rest = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${units.toString()}.${rest}`;
}
