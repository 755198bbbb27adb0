import type Koa from 'koa';
import type { z } from 'zod';
import { typeRefusals, type RefusalParams } from '#shared/contract/api.js';
import { AppError, badRequest } from '#shared/errors.js';

/**
 * Strict request parsing for the JSON API with the shared contract's schemas (#shared/contract/api.ts):
 * a body or a query string that does not match is refused before anything touches the database,
 * with the status, stable code and French message the contract gives the first failed check.
 */

type Issue = z.core.$ZodIssue;
type ObjectSchema = z.ZodType & { shape?: Record<string, z.ZodType> };

/** The JSON body, parsed by `schema` (a strict object). */
export function parseBody<S extends ObjectSchema>(ctx: Koa.Context, schema: S): z.output<S> {
  const body: unknown = (ctx.request as { body?: unknown }).body;
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.slice(0, 5);
    throw badRequest('unknown_field', `Champ non reconnu : ${fields.join(', ')}.`, { fields });
  }
  const field = issue.path[0];
  if (field === undefined) {
    throw badRequest('invalid_body', 'Le corps de la requête doit être un objet JSON.');
  }
  if (issue.code === 'custom') throw fromParams(issue);
  // zod's own issue on a field (absent, null, another JSON type, not an enum's value): the field's registered answer.
  const answers = typeRefusals.get(schema.shape?.[String(field)] as z.ZodType) ?? {};
  const absent = issue.input === undefined || issue.input === null;
  const answer = absent
    ? (answers.missing ?? { status: 400, code: 'missing_field', message: `Le champ ${String(field)} est obligatoire.` })
    : (answers.wrongType ?? {
        status: 400,
        code: 'invalid_field',
        message: `Le champ ${String(field)} doit être une chaîne de caractères.`,
      });
  throw new AppError(answer.status, answer.code, answer.message);
}

/** The query string, parsed by `schema` (a strict object of optional string parameters). */
export function parseQuery<S extends z.ZodType>(ctx: Koa.Context, schema: S): z.output<S> {
  const result = schema.safeParse(ctx.query, { reportInput: true });
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  if (issue.code === 'unrecognized_keys') {
    throw badRequest('invalid_query', `Paramètre non reconnu : ${issue.keys.slice(0, 5).join(', ')}.`);
  }
  if (issue.code === 'custom') throw fromParams(issue);
  // A parameter given twice (?page=1&page=2) arrives as an array, not a string.
  throw badRequest('invalid_query', `Le paramètre ${String(issue.path[0])} ne peut apparaître qu’une fois.`);
}

/** Unknown fields are answered first, then the fields' issues in the schema's field order. */
function firstIssue(issues: Issue[]): Issue {
  const first = issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0];
  if (!first) throw new Error('a failed parse without an issue');
  return first;
}

/** A contract check's issue carries its answer (see `refusal` in #shared/contract/api.ts). */
function fromParams(issue: Issue & { code: 'custom' }): AppError {
  const params = issue.params as Partial<RefusalParams> | undefined;
  if (params?.status === undefined || params.code === undefined) {
    throw new Error(`contract check without a refusal at ${issue.path.join('.')}`);
  }
  return new AppError(params.status, params.code, issue.message);
}
