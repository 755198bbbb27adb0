import { z } from 'zod';
import { ACCOUNT_NUMBER_PATTERN, normalizeAccountNumber, RECIPIENT_MAX_LENGTH } from './accounts.js';
import { AMOUNT_MAX_LENGTH, CURRENCIES, parseAmount } from './money.js';
import { AppError } from '../errors.js';

/**
 * The JSON the web service and the transactions service exchange, each message declared once as
 * a zod schema: request bodies, query strings, response shapes. The transactions service parses
 * requests with them (routes/parse.ts), the web service types its client and forms with their
 * inferred types, and docs/api/openapi.json is generated from them (npm run openapi).
 * Amounts are decimal strings (see money.ts), timestamps ISO-8601 UTC.
 */

export const LABEL_MAX_LENGTH = 140;
/**
 * Characters a label may not hold: controls (Unicode Cc), invisible format characters (Cf: bidi
 * overrides such as U+202E that reorder the history's text, zero-width spaces U+200B…) and line
 * or paragraph separators.
 */
export const LABEL_FORBIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;
export const MAX_PAGE_SIZE = 100;
/**
 * The last page number either service serves (pages of at most MAX_PAGE_SIZE rows: at most
 * 100,000 rows are skipped). The API refuses a higher page with a 400 JSON error; the web shows an
 * empty page with a link back to the first, as for any page past the end of a list.
 */
export const MAX_PAGE = 1_000;

// ---------------------------------------------------------------------------------------------
// Refusals: how a failed check is answered
// ---------------------------------------------------------------------------------------------

/** A refused request's answer: HTTP status and stable code (the message is the zod issue's). */
export interface RefusalParams {
  status: 400 | 404 | 422;
  code: string;
}

/**
 * The answer to a field that is absent (or null) or not of its JSON type (or, for an enum, not
 * one of its values). zod reports these as its own issues, which carry no status or code, so the answer is registered on
 * the field's schema, where the transactions service's parse helper finds it. A body field
 * without an entry is answered 400 missing_field / invalid_field.
 */
export interface TypeRefusals {
  missing?: RefusalParams & { message: string };
  wrongType?: RefusalParams & { message: string };
}
export const typeRefusals = z.registry<TypeRefusals>();

/**
 * The options of a check (refine) whose failure is answered with this status, code and French
 * message. `abort`: the field's later checks do not run, so the first failed check is the answer.
 */
function refusal<T>(status: RefusalParams['status'], code: string, message: string | ((value: T) => string)) {
  const params: RefusalParams = { status, code };
  return {
    abort: true,
    params,
    error: (issue: { input: unknown }) => (typeof message === 'string' ? message : message(issue.input as T)),
  };
}

/** Turns a shared parser's AppError (parseAmount) into a zod issue the parse helper answers the same way. */
function refusingWith<T>(parse: (text: string) => T) {
  return (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message, params: { status: err.status, code: err.code } });
      return z.NEVER;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Request fields
// ---------------------------------------------------------------------------------------------

const MISSING_KEY = {
  status: 400,
  code: 'missing_idempotency_key',
  message: 'La clé d’idempotence (idempotencyKey) est obligatoire : rechargez le formulaire.',
} as const;
const INVALID_KEY = {
  status: 400,
  code: 'invalid_idempotency_key',
  message: 'La clé d’idempotence doit compter 8 à 128 caractères parmi lettres, chiffres et « _ . : - ».',
} as const;

const idempotencyKeyField = z
  .string()
  .refine((key) => key !== '', refusal(MISSING_KEY.status, MISSING_KEY.code, MISSING_KEY.message))
  .refine(
    (key) => IDEMPOTENCY_KEY_PATTERN.test(key),
    refusal(INVALID_KEY.status, INVALID_KEY.code, INVALID_KEY.message),
  )
  .meta({
    description: 'Clé choisie par le client : la même clé rejoue la même opération au lieu de la refaire.',
    pattern: IDEMPOTENCY_KEY_PATTERN.source,
  })
  .register(typeRefusals, { missing: MISSING_KEY, wrongType: INVALID_KEY });

/** The answers to a required text that is absent, null or not a string. */
function textRefusals(field: string, missing: string): TypeRefusals {
  return {
    missing: { status: 400, code: 'missing_field', message: missing },
    wrongType: { status: 400, code: 'invalid_field', message: `Le champ ${field} doit être une chaîne de caractères.` },
  };
}

/** A required text: empty or blank is answered 400 missing_field, as an absent one. */
function requiredText(missing: string) {
  return z.string().refine((text) => text.trim() !== '', refusal(400, 'missing_field', missing));
}

/** An account number, normalized ("ft 4821-730.956" is FT4821730956); a malformed one is unknown (404). */
function accountNumberField(field: string, missing: string) {
  return requiredText(missing)
    .transform(normalizeAccountNumber)
    .refine(
      (number) => ACCOUNT_NUMBER_PATTERN.test(number),
      refusal(404, 'unknown_account', 'Numéro de compte inconnu (format attendu : FT suivi de 10 chiffres).'),
    )
    .meta({ description: 'Numéro de compte : FT suivi de 10 chiffres (espaces, points, tirets et casse ignorés).' })
    .register(typeRefusals, textRefusals(field, missing));
}

/** An account number or a username, trimmed; one longer than any of them is unknown (404). */
function recipientField(missing: string) {
  return requiredText(missing)
    .transform((text) => text.trim())
    .refine((text) => text.length <= RECIPIENT_MAX_LENGTH, refusal(404, 'unknown_recipient', 'Destinataire inconnu.'))
    .meta({ description: 'Un numéro de compte ou un nom d’utilisateur.', maxLength: RECIPIENT_MAX_LENGTH })
    .register(typeRefusals, textRefusals('to', missing));
}

/** A decimal string ("12.34"), parsed into cents by the shared money parser (its refusals are 422). */
const amountField = z
  .string()
  .transform(refusingWith(parseAmount))
  .meta({
    description: 'Montant en chaîne décimale, point et au plus deux décimales : "12.34". Jamais un nombre JSON.',
    pattern: '^\\d{1,7}(\\.\\d{1,2})?$',
    maxLength: AMOUNT_MAX_LENGTH,
  })
  .register(typeRefusals, {
    missing: { status: 422, code: 'invalid_amount', message: 'Le montant est obligatoire (par exemple 12.34).' },
    wrongType: {
      status: 400,
      code: 'invalid_field',
      message: 'Le montant doit être une chaîne comme "12.34", pas un nombre.',
    },
  });

function codePoint(text: string): string {
  const hidden = LABEL_FORBIDDEN_CHARACTER.exec(text)?.[0] ?? '';
  return `U+${(hidden.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Optional; trimmed, and an empty label is no label. */
const labelField = z
  .string()
  .nullish()
  .transform((text) => text?.trim() || undefined)
  .refine(
    (text) => text === undefined || text.length <= LABEL_MAX_LENGTH,
    refusal(422, 'invalid_label', `Le libellé doit faire au plus ${LABEL_MAX_LENGTH} caractères.`),
  )
  .refine(
    (text) => text === undefined || !LABEL_FORBIDDEN_CHARACTER.test(text),
    refusal<string>(
      422,
      'invalid_label',
      (text) =>
        `Le libellé contient un caractère de contrôle ou invisible (${codePoint(text)}) qui peut déguiser le texte : retirez-le.`,
    ),
  )
  .meta({
    description: 'Libellé libre, sans caractère de contrôle ni invisible (Cc, Cf, Zl, Zp).',
    maxLength: LABEL_MAX_LENGTH,
  });

const INVALID_CURRENCY = {
  status: 422,
  code: 'invalid_currency',
  message: 'Devise non prise en charge : choisissez EUR ou USD.',
} as const;

/** Absent, not a string or not a currency of CURRENCIES: all answered 422 invalid_currency. */
const currencyField = z
  .enum(CURRENCIES)
  .meta({ description: 'Devise du compte.' })
  .register(typeRefusals, { missing: INVALID_CURRENCY, wrongType: INVALID_CURRENCY });

// ---------------------------------------------------------------------------------------------
// Request bodies (strict: an unknown field is refused, 400 unknown_field)
// ---------------------------------------------------------------------------------------------

/** POST /api/transfers: `amount` parses into cents. */
export const TransferRequest = z.strictObject({
  idempotencyKey: idempotencyKeyField,
  fromAccount: accountNumberField('fromAccount', 'Choisissez le compte à débiter.'),
  to: recipientField('Indiquez le destinataire (numéro de compte ou nom d’utilisateur).'),
  amount: amountField,
  label: labelField,
});
export type TransferRequestBody = z.input<typeof TransferRequest>;

/** POST /api/deposits (admin), from the settlement account of the recipient's currency. */
export const DepositRequest = z.strictObject({
  idempotencyKey: idempotencyKeyField,
  to: recipientField('Indiquez le bénéficiaire (numéro de compte ou nom d’utilisateur).'),
  amount: amountField,
  label: labelField,
});
export type DepositRequestBody = z.input<typeof DepositRequest>;

/** POST /api/accounts: the same key again returns the account it opened (200, Idempotent-Replay). */
export const OpenAccountRequest = z.strictObject({
  idempotencyKey: idempotencyKeyField,
  currency: currencyField,
});
export type OpenAccountBody = z.input<typeof OpenAccountRequest>;

/** POST /api/accounts/primary: an empty object (the acting user is the signed one). */
export const OpenPrimaryAccountRequest = z.strictObject({});

// ---------------------------------------------------------------------------------------------
// Query strings (strict: an unknown or repeated parameter is refused, 400 invalid_query)
// ---------------------------------------------------------------------------------------------

/** A whole number between 1 and `max`, written in decimal digits. */
function positiveIntParam(name: string, max: number) {
  return z
    .string()
    .refine(
      (text) => /^\d{1,16}$/.test(text) && Number(text) >= 1 && Number(text) <= max,
      refusal(400, 'invalid_query', `Le paramètre ${name} doit être un entier entre 1 et ${max}.`),
    )
    .transform(Number);
}

/** An optional whole-number parameter that is `fallback` when absent. */
function optionalIntParam(name: string, max: number, fallback: number) {
  return positiveIntParam(name, max)
    .optional()
    .transform((value) => value ?? fallback)
    .meta({ description: `Entier entre 1 et ${max} ; ${fallback} par défaut.`, pattern: '^[0-9]+$' });
}

/** `page` and `pageSize`, the page size defaulting to `defaultSize`. */
function pageParams(defaultSize: number) {
  return {
    page: optionalIntParam('page', MAX_PAGE, 1),
    pageSize: optionalIntParam('pageSize', MAX_PAGE_SIZE, defaultSize),
  };
}

/** GET /api/overview: `limit`, the number of latest movements shown (default 5). */
export const OverviewQuery = z.strictObject({
  limit: optionalIntParam('limit', MAX_PAGE_SIZE, 5),
});

/** GET /api/history: one of the user's accounts (all of them without `account`), a page at a time. */
export const HistoryQuery = z.strictObject({
  account: z
    .string()
    .optional()
    .transform((text) => text || undefined)
    .meta({ description: 'Un des comptes de l’utilisateur ; absent ou vide : tous ses comptes.' }),
  ...pageParams(20),
});
export type HistoryQueryInput = z.input<typeof HistoryQuery>;

/** GET /api/ledger/journal (admin). */
export const JournalQuery = z.strictObject(pageParams(50));
export type JournalQueryInput = z.input<typeof JournalQuery>;

/** Routes that take no query parameter at all. */
export const NoQuery = z.strictObject({});

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

const currency = z.enum(CURRENCIES);
const decimal = z.string().meta({ description: 'Montant en chaîne décimale signée : "-12.34".' });
const timestamp = z.string().meta({ description: 'Horodatage ISO-8601 UTC.' });

export const AccountKindSchema = z.enum(['primary', 'current']);
export type AccountKind = z.infer<typeof AccountKindSchema>;

export const AccountView = z.object({
  number: z.string(),
  currency,
  balance: decimal,
  kind: AccountKindSchema,
  createdAt: timestamp,
});
export type AccountView = z.infer<typeof AccountView>;

export const MovementView = z.object({
  id: z.number().int(),
  createdAt: timestamp,
  accountNumber: z.string(),
  amount: decimal,
  currency,
  type: z.string(),
  label: z.string(),
  counterparty: z.string(),
  reference: z.string(),
});
export type MovementView = z.infer<typeof MovementView>;

export const TransferView = z.object({
  reference: z.string(),
  status: z.literal('succeeded'),
  amount: decimal,
  currency,
  fromAccount: z.string(),
  toAccount: z.string(),
  label: z.string(),
  createdAt: timestamp,
});
export type TransferView = z.infer<typeof TransferView>;

export const JournalEntryView = z.object({
  id: z.number().int(),
  reference: z.string(),
  createdAt: timestamp,
  accountNumber: z.string(),
  owner: z.string(),
  amount: decimal,
  currency,
  type: z.string(),
  label: z.string(),
});
export type JournalEntryView = z.infer<typeof JournalEntryView>;

export const TrialBalance = z.object({
  currencies: z.array(z.object({ currency, debits: decimal, credits: decimal, net: decimal })),
  balanced: z.boolean(),
  accounts: z.array(
    z.object({ number: z.string(), owner: z.string(), currency, balance: decimal, journalBalance: decimal }),
  ),
});
export type TrialBalance = z.infer<typeof TrialBalance>;

const pageInfo = {
  page: z.number().int(),
  pageSize: z.number().int(),
  hasNext: z.boolean(),
};

/** GET /api/accounts */
export const AccountList = z.object({ accounts: z.array(AccountView) });
export type AccountList = z.infer<typeof AccountList>;
/** POST /api/accounts, POST /api/accounts/primary */
export const OpenedAccount = z.object({ account: AccountView });
export type OpenedAccount = z.infer<typeof OpenedAccount>;
/** POST /api/transfers */
export const TransferDone = z.object({ transfer: TransferView });
export type TransferDone = z.infer<typeof TransferDone>;
/** POST /api/deposits */
export const DepositDone = z.object({ deposit: TransferView });

/** GET /api/overview: what the dashboard shows, in one call. */
export const OverviewView = z.object({ accounts: z.array(AccountView), movements: z.array(MovementView) });
export type OverviewView = z.infer<typeof OverviewView>;

/** GET /api/history: what the history page shows, in one call (`account` null: all the user's accounts). */
export const HistoryView = z.object({
  accounts: z.array(AccountView),
  account: z.string().nullable(),
  movements: z.array(MovementView),
  ...pageInfo,
});
export type HistoryView = z.infer<typeof HistoryView>;

/** GET /api/ledger/journal */
export const JournalPage = z.object({ entries: z.array(JournalEntryView), ...pageInfo });
export type JournalPage = z.infer<typeof JournalPage>;

/** The body of every refusal: `{"error": {...}}` with a stable code and a French message. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    requestId: z.string().optional(),
  }),
});
export type ApiError = z.infer<typeof ApiErrorBody>['error'];
