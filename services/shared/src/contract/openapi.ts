import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SIGNATURE_HEADERS, MAX_CLOCK_SKEW_S } from '../signing.js';
import {
  AccountList,
  ApiErrorBody,
  DepositDone,
  DepositRequest,
  HistoryQuery,
  HistoryView,
  JournalPage,
  JournalQuery,
  NoQuery,
  OpenAccountRequest,
  OpenedAccount,
  OpenPrimaryAccountRequest,
  OverviewQuery,
  OverviewView,
  TransferDone,
  TransferRequest,
  TrialBalance,
} from './api.js';

/**
 * The OpenAPI 3.1 document of the internal API (web → transactions), generated from the
 * contract's zod schemas: `npm run openapi` writes docs/api/openapi.json, and a unit test
 * (test/unit/shared/openapi.test.ts) fails when the file no longer matches the schemas.
 */

export const OPENAPI_PATH = fileURLToPath(new URL('../../../../docs/api/openapi.json', import.meta.url));

type JsonSchema = Record<string, unknown>;

/** Requests are described as sent (before transforms), responses as received. */
const requestSchema = (schema: z.ZodType): JsonSchema => jsonSchema(schema, 'input');
const responseSchema = (schema: z.ZodType): JsonSchema => jsonSchema(schema, 'output');

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' });
  return rest;
}

interface Operation {
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<string, { description: string; schema: z.ZodType }>;
  /** Refusals beyond those every route may give (400, 401, 503). */
  refusals?: Record<string, string>;
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

function operation(op: Operation) {
  const parameters = op.query
    ? Object.entries(requestSchema(op.query).properties as Record<string, JsonSchema>).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
      }))
    : [];
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    responses[status] = { description: response.description, content: json(responseSchema(response.schema)) };
  }
  const refusals: Record<string, string> = {
    400: 'Requête invalide : champ inconnu, absent ou mal typé, paramètre de requête invalide.',
    401: 'Signature absente, expirée ou fausse (invalid_signature).',
    ...op.refusals,
    503: 'Base de données ou service indisponible ; Retry-After indique quand réessayer.',
  };
  for (const [status, description] of Object.entries(refusals)) {
    responses[status] = {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return {
    summary: op.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: json(requestSchema(op.body)) } } : {}),
    responses,
  };
}

const SIGNATURE_PROSE = `Chaque requête est signée par le service web (HMAC-SHA256, services/shared/src/signing.ts) avec les en-têtes ${SIGNATURE_HEADERS.keyId} (identifiant de la clé), ${SIGNATURE_HEADERS.timestamp} (secondes Unix, à ${MAX_CLOCK_SKEW_S} s près), ${SIGNATURE_HEADERS.actingUser} (l'utilisateur pour qui le web agit) et ${SIGNATURE_HEADERS.signature} (64 chiffres hexadécimaux). La signature couvre la méthode, le chemin avec sa requête, l'horodatage, l'empreinte SHA-256 du corps et l'utilisateur : une requête non signée ou altérée reçoit 401 invalid_signature. Les montants sont des chaînes décimales, les horodatages en ISO-8601 UTC. Toute erreur a la forme {"error": {"code", "message", "details"?, "requestId"?}} avec un code stable et un message en français.`;

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths = {
    '/api/accounts': {
      get: operation({
        summary: 'Les comptes de l’utilisateur, le compte principal EUR en premier.',
        responses: { 200: { description: 'Les comptes.', schema: AccountList } },
      }),
      post: operation({
        summary:
          'Ouvre un compte courant ; la même clé d’idempotence rend le compte déjà ouvert (200, Idempotent-Replay).',
        body: OpenAccountRequest,
        responses: {
          201: { description: 'Compte ouvert.', schema: OpenedAccount },
          200: { description: 'Rejeu : le compte ouvert par la même clé.', schema: OpenedAccount },
        },
        refusals: {
          409: 'Clé déjà utilisée pour une autre devise (idempotency_key_reused).',
          422: 'Devise non prise en charge (invalid_currency) ou trop de comptes.',
        },
      }),
    },
    '/api/accounts/primary': {
      post: operation({
        summary: 'Ouvre le compte principal EUR à l’inscription ; une répétition rend le même compte (200).',
        body: OpenPrimaryAccountRequest,
        responses: {
          201: { description: 'Compte ouvert.', schema: OpenedAccount },
          200: { description: 'Le compte déjà ouvert.', schema: OpenedAccount },
        },
      }),
    },
    '/api/overview': {
      get: operation({
        summary: 'Le tableau de bord en un appel : les comptes et les derniers mouvements.',
        query: OverviewQuery,
        responses: { 200: { description: 'Comptes et derniers mouvements.', schema: OverviewView } },
      }),
    },
    '/api/history': {
      get: operation({
        summary: 'L’historique, page par page : un compte de l’utilisateur ou tous ses comptes.',
        query: HistoryQuery,
        responses: {
          200: { description: 'Une page de mouvements, du plus récent au plus ancien.', schema: HistoryView },
        },
        refusals: { 404: 'Compte inexistant ou qui n’appartient pas à l’utilisateur (unknown_account).' },
      }),
    },
    '/api/transfers': {
      post: operation({
        summary: 'Virement depuis un compte de l’utilisateur ; la même clé rejoue la réponse (200, Idempotent-Replay).',
        body: TransferRequest,
        responses: {
          201: { description: 'Virement effectué.', schema: TransferDone },
          200: { description: 'Rejeu du virement effectué sous la même clé.', schema: TransferDone },
        },
        refusals: {
          403: 'Le compte à débiter n’est pas à l’utilisateur (not_your_account).',
          404: 'Compte ou destinataire inconnu (unknown_account, unknown_recipient).',
          409: 'Clé déjà utilisée pour une autre opération (idempotency_key_reused).',
          422: 'Montant, libellé ou opération refusés (invalid_amount, invalid_label, insufficient_funds, same_account, currency_mismatch…).',
        },
      }),
    },
    '/api/deposits': {
      post: operation({
        summary: 'Dépôt (administrateur) depuis le compte de règlement de la devise du bénéficiaire.',
        body: DepositRequest,
        responses: {
          201: { description: 'Dépôt effectué.', schema: DepositDone },
          200: { description: 'Rejeu du dépôt effectué sous la même clé.', schema: DepositDone },
        },
        refusals: {
          403: 'Réservé aux administrateurs (admin_only).',
          404: 'Bénéficiaire inconnu (unknown_recipient).',
          409: 'Clé déjà utilisée pour une autre opération (idempotency_key_reused).',
          422: 'Montant ou libellé refusés (invalid_amount, amount_too_large, invalid_label).',
        },
      }),
    },
    '/api/ledger/journal': {
      get: operation({
        summary: 'Le journal des écritures (administrateur), page par page.',
        query: JournalQuery,
        responses: { 200: { description: 'Une page du journal.', schema: JournalPage } },
        refusals: { 403: 'Réservé aux administrateurs (admin_only).' },
      }),
    },
    '/api/ledger/trial-balance': {
      get: operation({
        summary: 'La balance (administrateur) : débits, crédits et soldes recalculés depuis le journal.',
        query: NoQuery,
        responses: { 200: { description: 'La balance.', schema: TrialBalance } },
        refusals: { 403: 'Réservé aux administrateurs (admin_only).' },
      }),
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Fintech-test : API interne du service des opérations',
      version: '1.0.0',
      description: SIGNATURE_PROSE,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: { schemas: { Error: responseSchema(ApiErrorBody) } },
  };
}

/** Object keys sorted at every level, so the file changes only when the contract does. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The file's exact text: pretty-printed, keys sorted, a final newline. */
export function renderOpenApi(): string {
  return `${JSON.stringify(sortKeys(buildOpenApiDocument()), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- a fixed path inside the repository
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  console.log(`wrote ${OPENAPI_PATH}`);
}
