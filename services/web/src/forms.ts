import { badRequest } from '#shared/errors.js';

export type FormBody = Record<string, unknown>;

/**
 * Reads a submitted form strictly: only the expected fields, each a single string no longer than
 * its limit. Repeated fields (which the parser turns into arrays), nested objects and unknown
 * fields are refused with 400 and a message naming the field.
 */
export function readForm<K extends string>(body: unknown, fields: Record<K, { max: number }>): Record<K, string> {
  const source = (body && typeof body === 'object' ? body : {}) as FormBody;
  const allowed = new Set<string>([...Object.keys(fields), '_csrf']);
  for (const key of Object.keys(source)) {
    if (!allowed.has(key)) throw badRequest('unknown_field', `Champ inattendu : « ${key.slice(0, 40)} ».`);
  }
  const result = {} as Record<K, string>;
  for (const [name, rule] of Object.entries(fields) as Array<[K, { max: number }]>) {
    const value = source[name];
    if (value === undefined) {
      result[name] = '';
      continue;
    }
    if (typeof value !== 'string') throw badRequest('invalid_field', `Le champ « ${name} » doit être un texte unique.`);
    if (value.length > rule.max) {
      throw badRequest('field_too_long', `Le champ « ${name} » est trop long (${rule.max} caractères au plus).`);
    }
    result[name] = value;
  }
  return result;
}
