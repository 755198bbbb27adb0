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

export const CURRENCIES = ['EUR', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && (CURRENCIES as readonly string[]).includes(value);
}

/** The wire format: "12", "12.3", "12.34" (a point, at most two decimals). */
const WIRE_AMOUNT = /^(\d{1,7})(?:\.(\d{1,2}))?$/;
/**
 * What a person types in a form: a comma or a point before the decimals, and optionally the
 * French thousands grouping with a space ("1 000,50"; also the no-break spaces a copied amount has).
 */
const TYPED_AMOUNT = /^(\d{1,7}|\d{1,3}(?:[ \u00a0\u202f]\d{3}){1,2})(?:[.,](\d{1,2}))?$/;

function parseWith(input: unknown, pattern: RegExp, example: string, separator: string): number {
  if (typeof input !== 'string' || input.trim() === '') {
    throw unprocessable('invalid_amount', `Le montant est obligatoire (par exemple ${example}).`);
  }
  const text = input.trim();
  if (text.length > AMOUNT_MAX_LENGTH) {
    throw unprocessable('invalid_amount', 'Le montant est trop long.');
  }
  const match = pattern.exec(text);
  if (!match?.[1]) {
    throw unprocessable(
      'invalid_amount',
      `Montant invalide : utilisez des chiffres avec ${separator} et au plus deux décimales (par exemple ${example}).`,
    );
  }
  const units = Number(match[1].replace(/\D/g, ''));
  const cents = Number((match[2] ?? '').padEnd(2, '0'));
  const total = units * 100 + cents;
  if (total <= 0) throw unprocessable('invalid_amount', 'Le montant doit être strictement positif.');
  if (total > MAX_AMOUNT_CENTS) {
    throw unprocessable('amount_too_large', 'Le montant ne peut pas dépasser 1 000 000,00.');
  }
  return total;
}

/** Parses an amount of the wire format ("12", "12.3", "12.34") into cents; rejects anything else. */
export function parseAmount(input: unknown): number {
  return parseWith(input, WIRE_AMOUNT, '12.34', 'un point');
}

/**
 * Parses an amount typed in a form ("12,34", "12.34", "1 000,5") into cents, as exactly as
 * parseAmount: the digits are read, never a float. Forms convert with this, then send
 * formatCents(...) on the wire.
 */
export function parseTypedAmount(input: unknown): number {
  return parseWith(input, TYPED_AMOUNT, '12,34', 'une virgule (ou un point)');
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
