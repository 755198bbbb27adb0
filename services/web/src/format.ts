import type nunjucks from 'nunjucks';

/** The zone dates are shown in unless the caller names another. */
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

/** A decimal string as the transactions service sends amounts: "-1234.5", "0.00". */
const DECIMAL = /^-?\d+$|^-?\d+\.\d{1,2}$/;

const NBSP = '\u00a0';

/** Shown where an amount or a date is not known (never an empty cell). */
const UNKNOWN = '—';

export type MoneyTone = 'neg' | 'zero' | 'pos';

export interface FrenchFormat {
  /** "1234.5", "EUR" → "1 234,50 €"; "USD" → "1 234,50 $US". */
  money(value: unknown, currency: string): string;
  /** Like money() with the sign always shown for a movement: "+12,34 €", "-12,34 €", "0,00 €". */
  signedMoney(value: unknown, currency: string): string;
  /** Which colour an amount takes: zero is neither a gain nor a loss. */
  moneyTone(value: unknown): MoneyTone;
  /** An ISO-8601 instant in the configured zone, with the zone: "12/10/2026 14:05 UTC+2". */
  dateTime(iso: unknown): string;
}

function decimal(value: unknown): `${number}` | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new TypeError(`not a decimal amount string: ${JSON.stringify(value)}`);
  }
  return value as `${number}`;
}

/**
 * French number and date formatting. Amounts stay decimal strings all the way: Intl.NumberFormat
 * formats a numeric string as an exact decimal (ES2023), so no amount passes through a float.
 */
export function frenchFormat(timeZone: string = DEFAULT_TIME_ZONE): FrenchFormat {
  const moneyFormats = new Map<string, Intl.NumberFormat>();
  const numberFormat = (currency: string, signed: boolean) => {
    const key = `${currency}/${signed}`;
    let format = moneyFormats.get(key);
    if (!format) {
      format = new Intl.NumberFormat('fr-FR', {
        style: 'currency',
        currency,
        signDisplay: signed ? 'exceptZero' : 'auto',
      });
      moneyFormats.set(key, format);
    }
    return format;
  };
  const dateFormat = new Intl.DateTimeFormat('fr-FR', {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'shortOffset',
  });

  return {
    money(value, currency) {
      const amount = decimal(value);
      return amount === null ? UNKNOWN : numberFormat(currency, false).format(amount);
    },
    signedMoney(value, currency) {
      const amount = decimal(value);
      return amount === null ? UNKNOWN : numberFormat(currency, true).format(amount);
    },
    moneyTone(value) {
      const amount = decimal(value);
      if (amount === null || /^-?[0.]+$/.test(amount)) return 'zero';
      return amount.startsWith('-') ? 'neg' : 'pos';
    },
    dateTime(iso) {
      if (iso === null || iso === undefined || iso === '') return UNKNOWN;
      const date = new Date(String(iso));
      if (Number.isNaN(date.getTime())) throw new TypeError(`not an ISO-8601 date: ${JSON.stringify(iso)}`);
      // The zone stays with the time ("14:05 UTC+2"); a narrow column may wrap after the date.
      return dateFormat
        .formatToParts(date)
        .map((part, i, parts) => (part.type === 'literal' && parts[i + 1]?.type === 'timeZoneName' ? NBSP : part.value))
        .join('');
    },
  };
}

/**
 * French spacing and apostrophes for messages written elsewhere (services, validation): a
 * no-break space before : ; ! ? and inside « », and ’ for a straight apostrophe between letters.
 */
export function frenchTypography(text: unknown): string {
  return String(text ?? '')
    .replace(/(\p{L})'(?=\p{L})/gu, '$1’')
    .replace(/ ([:;!?])(?=\s|$)/gu, `${NBSP}$1`)
    .replace(/«\s*/gu, `«${NBSP}`)
    .replace(/\s*»/gu, `${NBSP}»`);
}

/** A French amount for text composed in code (flash messages); the zone plays no part in it. */
export const formatMoney: FrenchFormat['money'] = frenchFormat().money;

/** Registers the formatting filters the templates use ({{ amount | money(currency) }}, ...). */
export function addFormatFilters(env: nunjucks.Environment, timeZone: string = DEFAULT_TIME_ZONE): void {
  const format = frenchFormat(timeZone);
  env.addFilter('money', format.money);
  env.addFilter('signedMoney', format.signedMoney);
  env.addFilter('moneyTone', format.moneyTone);
  env.addFilter('dateTime', format.dateTime);
  env.addFilter('frenchTypography', frenchTypography);
}
