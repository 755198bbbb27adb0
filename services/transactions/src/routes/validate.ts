import type Koa from 'koa';
import { ACCOUNT_NUMBER_PATTERN, normalizeAccountNumber, RECIPIENT_MAX_LENGTH } from '#shared/contract/accounts.js';
import {
  IDEMPOTENCY_KEY_PATTERN,
  LABEL_FORBIDDEN_CHARACTER,
  LABEL_MAX_LENGTH,
  MAX_PAGE,
  MAX_PAGE_SIZE,
} from '#shared/contract/api.js';
import { badRequest, notFound, unprocessable } from '#shared/errors.js';
import type { Page } from '../ledger/history.js';

/**
 * Strict request parsing for the JSON API (limits from the shared contract, #shared/contract): a body is a JSON object with known fields of the
 * right type, or the request is refused before anything touches the database.
 */
export function jsonObject(ctx: Koa.Context, allowed: readonly string[]): Record<string, unknown> {
  const body: unknown = (ctx.request as { body?: unknown }).body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('invalid_body', 'Le corps de la requête doit être un objet JSON.');
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw badRequest('unknown_field', `Champ non reconnu : ${unknown.slice(0, 5).join(', ')}.`, {
      fields: unknown.slice(0, 5),
    });
  }
  return record;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw badRequest('invalid_field', `Le champ ${field} doit être une chaîne de caractères.`);
  return value;
}

export function requiredString(body: Record<string, unknown>, field: string, missingMessage: string): string {
  const value = optionalString(body, field);
  if (value === undefined || value.trim() === '') throw badRequest('missing_field', missingMessage);
  return value;
}

/** Every money movement carries a client-chosen key (the transfer form renders a fresh one). */
export function idempotencyKey(body: Record<string, unknown>): string {
  const value = body.idempotencyKey;
  if (value === undefined || value === null || value === '') {
    throw badRequest(
      'missing_idempotency_key',
      'La clé d’idempotence (idempotencyKey) est obligatoire : rechargez le formulaire.',
    );
  }
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw badRequest(
      'invalid_idempotency_key',
      'La clé d’idempotence doit compter 8 à 128 caractères parmi lettres, chiffres et « _ . : - ».',
    );
  }
  return value;
}

export function label(body: Record<string, unknown>): string | undefined {
  const value = optionalString(body, 'label')?.trim();
  if (value === undefined || value === '') return undefined;
  if (value.length > LABEL_MAX_LENGTH) {
    throw unprocessable('invalid_label', `Le libellé doit faire au plus ${LABEL_MAX_LENGTH} caractères.`);
  }
  const hidden = LABEL_FORBIDDEN_CHARACTER.exec(value)?.[0];
  if (hidden !== undefined) {
    const codePoint = `U+${(hidden.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw unprocessable(
      'invalid_label',
      `Le libellé contient un caractère de contrôle ou invisible (${codePoint}) qui peut déguiser le texte : retirez-le.`,
    );
  }
  return value;
}

export function accountNumber(value: string): string {
  const number = normalizeAccountNumber(value);
  if (!ACCOUNT_NUMBER_PATTERN.test(number)) {
    throw notFound('unknown_account', 'Numéro de compte inconnu (format attendu : FT suivi de 10 chiffres).');
  }
  return number;
}

export function recipient(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length > RECIPIENT_MAX_LENGTH) throw notFound('unknown_recipient', 'Destinataire inconnu.');
  return trimmed;
}

function queryParam(ctx: Koa.Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw badRequest('invalid_query', `Le paramètre ${name} ne peut apparaître qu’une fois.`);
  return value;
}

function positiveInt(ctx: Koa.Context, name: string, fallback: number, max: number): number {
  const text = queryParam(ctx, name);
  if (text === undefined) return fallback;
  if (!/^\d{1,16}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw badRequest('invalid_query', `Le paramètre ${name} doit être un entier entre 1 et ${max}.`);
  }
  return Number(text);
}

export function onlyQuery(ctx: Koa.Context, allowed: readonly string[]): void {
  const unknown = Object.keys(ctx.query).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw badRequest('invalid_query', `Paramètre non reconnu : ${unknown.slice(0, 5).join(', ')}.`);
}

/** `page`/`pageSize`, or `limit` as a shorthand for the first page of that size. */
export function pagination(ctx: Koa.Context, defaultSize: number): Page {
  const limit = queryParam(ctx, 'limit');
  if (limit !== undefined) {
    if (queryParam(ctx, 'page') !== undefined || queryParam(ctx, 'pageSize') !== undefined) {
      throw badRequest('invalid_query', 'Utilisez soit limit, soit page et pageSize.');
    }
    return { page: 1, pageSize: positiveInt(ctx, 'limit', defaultSize, MAX_PAGE_SIZE) };
  }
  return {
    page: positiveInt(ctx, 'page', 1, MAX_PAGE),
    pageSize: positiveInt(ctx, 'pageSize', defaultSize, MAX_PAGE_SIZE),
  };
}

export function accountQuery(ctx: Koa.Context): string | undefined {
  const value = queryParam(ctx, 'account');
  return value === undefined ? undefined : accountNumber(value);
}
