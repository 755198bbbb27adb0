/** Server-assigned timestamps, stored as ISO-8601 UTC text/timestamptz the same way on both databases. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Reads a timestamp from either database (Date, epoch ms, or text with or without a zone) as UTC ISO. */
export function toIso(value: string | Date | number): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return new Date(value).toISOString();
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`).toISOString();
}
