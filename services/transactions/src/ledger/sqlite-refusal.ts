/**
 * The SQLite half of reading a refusal. node-sqlite3 gives only the code SQLITE_CONSTRAINT and a
 * message, which knex prefixes with the failed SQL. The message ends with the name of what was
 * broken: our triggers raise `RAISE(ABORT, '<rule name>')` ("SQLITE_CONSTRAINT: accounts_no_overdraft"),
 * a named CHECK says "CHECK constraint failed: transfers_amount_check", and a foreign key, which
 * SQLite does not name, "FOREIGN KEY constraint failed". So the name is the text after the last
 * ": ", for the caller to compare exactly with the names it knows (rule-catalogue.ts).
 */
export const SQLITE_FOREIGN_KEY = 'FOREIGN KEY constraint failed';

/** The name a SQLite constraint error ends with, or undefined for any other error. */
export function sqliteConstraintName(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'SQLITE_CONSTRAINT' || typeof e.message !== 'string') return undefined;
  return e.message.slice(e.message.lastIndexOf(': ') + 2);
}
