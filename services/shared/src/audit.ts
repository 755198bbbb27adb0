import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { dbClient } from './db.js';
import { requestContext } from './request-context.js';

/**
 * The audit trail: one shared helper, and each service writes its own events with it, in the same
 * transaction as the action it records (docs/ARCHITECTURE.md §9). The web service writes logins,
 * logouts, registrations, admin page views and the refusals of its rate limits; the transactions
 * service writes transfers, deposits and account openings.
 */
export type AuditEventName =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.throttled'
  | 'logout'
  | 'registration'
  | 'transfer'
  | 'deposit'
  | 'account.opened'
  | 'account.opening_refused'
  | 'admin.page_viewed';

export const AUDIT_EVENTS: readonly AuditEventName[] = [
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'logout',
  'registration',
  'transfer',
  'deposit',
  'account.opened',
  'account.opening_refused',
  'admin.page_viewed',
];

/** What a caller records. Nothing secret: no password, hash, session id or typed username. */
export interface AuditEvent {
  event: AuditEventName;
  /** `succeeded`, `accepted`, `refused`, `rate_limited`, … */
  outcome: string;
  actorId?: number | null;
  /** The actor's username when known. */
  actor?: string | null;
  /** Facts of the action: reference, amount, accounts, refusal code… */
  details?: Record<string, string | number | boolean | null>;
  /** Defaults from the request context (request-logging.ts). */
  requestId?: string | null;
  clientIp?: string | null;
}

/** One stored row, as hashed and verified. */
export interface AuditRow {
  id: number | string;
  seq: number | string;
  occurred_at: string;
  request_id: string | null;
  actor_id: number | string | null;
  actor: string | null;
  client_ip: string | null;
  event: string;
  outcome: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of a row: SHA-256 over the previous hash, a newline and the JSON array of every column
 * but `id`, `prev_hash` and `hash`, `seq` first. PostgreSQL computes the same characters in SQL
 * (appendStatement), so the array is built as "[" + seq + "," + the rest (contentAfterSeq).
 */
export function auditHash(row: Omit<AuditRow, 'id' | 'hash'>): string {
  return createHash('sha256')
    .update(`${row.prev_hash}\n[${Number(row.seq)},${contentAfterSeq(row)}`)
    .digest('hex');
}

/** The hashed columns after `seq`, as the tail of their JSON array (no opening bracket). */
function contentAfterSeq(row: Omit<AuditRow, 'id' | 'hash' | 'seq' | 'prev_hash'>): string {
  return JSON.stringify([
    row.occurred_at,
    row.request_id,
    row.actor_id === null ? null : Number(row.actor_id),
    row.actor,
    row.client_ip,
    row.event,
    row.outcome,
    row.details,
  ]).slice(1);
}

interface ChainHead {
  seq: number | string;
  last_hash: string;
}

type AuditContent = Omit<AuditRow, 'id' | 'hash' | 'seq' | 'prev_hash'>;

function contentOf(event: AuditEvent): AuditContent {
  const context = requestContext.getStore();
  return {
    occurred_at: new Date().toISOString(),
    request_id: event.requestId ?? context?.requestId ?? null,
    actor_id: event.actorId ?? null,
    actor: event.actor ?? null,
    client_ip: event.clientIp ?? context?.clientIp ?? null,
    event: event.event,
    outcome: event.outcome,
    details: JSON.stringify(event.details ?? {}),
  };
}

const NO_HEAD = 'audit_chain has no head row: run the migrations';

/**
 * SQLite: a transaction of several statements. Taking the head first (an UPDATE) takes the file's
 * write lock, so concurrent writers take turns until commit.
 */
async function appendInTransaction(trx: Knex.Transaction, event: AuditEvent): Promise<void> {
  const heads = (await trx('audit_chain')
    .where({ id: 1 })
    .update({ seq: trx.raw('seq + 1') })
    .returning(['seq', 'last_hash'])) as ChainHead[];
  const head = heads[0];
  if (!head) throw new Error(NO_HEAD);
  const row = { seq: Number(head.seq), ...contentOf(event), prev_hash: head.last_hash };
  const hash = auditHash(row);
  await trx('audit_events').insert({ ...row, hash });
  await trx('audit_chain').where({ id: 1 }).update({ last_hash: hash });
}

/**
 * PostgreSQL: `action` (an INSERT … RETURNING, or none) and its audit row in one statement, so one
 * round trip and the head's row lock held only for that statement's commit. The audit row is
 * written only when the action returned a row. `for update` makes concurrent writers wait for the
 * head and then read its latest version (READ COMMITTED re-checks a locked row), so each row
 * chains onto the one committed before it. Returns the action's rows.
 */
async function appendStatement(
  db: Knex | Knex.Transaction,
  action: Knex.QueryBuilder | null,
  event: AuditEvent,
): Promise<Array<Record<string, unknown>>> {
  const content = contentOf(event);
  const result = await db.raw(
    `with claimed as (?),
      head as (select seq + 1 as seq, last_hash from audit_chain
               where id = 1 and exists (select 1 from claimed) for update),
      entry as (select seq, last_hash as prev_hash,
                encode(sha256(convert_to(last_hash || chr(10) || '[' || seq::text || ',' || ?::text, 'UTF8')), 'hex') as hash
                from head),
      bumped as (update audit_chain set seq = entry.seq, last_hash = entry.hash from entry where audit_chain.id = 1),
      appended as (insert into audit_events
                     (seq, occurred_at, request_id, actor_id, actor, client_ip, event, outcome, details, prev_hash, hash)
                   select seq, ?, ?, ?, ?, ?, ?, ?, ?, prev_hash, hash from entry returning seq)
    select claimed.*, (select count(*) from appended)::int as audit_rows from claimed`,
    [
      action ?? db.raw('select 1 as claimed'),
      contentAfterSeq(content),
      content.occurred_at,
      content.request_id,
      content.actor_id,
      content.actor,
      content.client_ip,
      content.event,
      content.outcome,
      content.details,
    ],
  );
  const rows = (result as { rows: Array<Record<string, unknown>> }).rows;
  if (rows.length > 0 && rows[0]?.audit_rows === 0) throw new Error(NO_HEAD);
  return rows.map(({ audit_rows: _counted, ...row }) => row);
}

function isTransaction(db: Knex | Knex.Transaction): db is Knex.Transaction {
  return 'commit' in db && typeof db.commit === 'function';
}

/**
 * Appends one event to the chain: inside `db`'s transaction when it is one (the action and its
 * audit row commit or roll back together), else in a transaction of its own.
 */
export async function recordAudit(db: Knex | Knex.Transaction, event: AuditEvent): Promise<void> {
  if (dbClient(db) === 'pg') {
    await appendStatement(db, null, event);
    return;
  }
  if (isTransaction(db)) {
    await appendInTransaction(db, event);
    return;
  }
  await db.transaction((trx) => appendInTransaction(trx, event));
}

/**
 * Runs `action` (an INSERT … RETURNING) and, when it returned a row, appends `event` in the same
 * transaction; returns the action's rows. On PostgreSQL that is one statement (appendStatement).
 */
export async function insertAudited<Row>(db: Knex, action: Knex.QueryBuilder, event: AuditEvent): Promise<Row[]> {
  if (dbClient(db) === 'pg') return (await appendStatement(db, action, event)) as Row[];
  return db.transaction(async (trx) => {
    const rows = (await action.transacting(trx)) as Row[];
    if (rows.length === 1) await appendInTransaction(trx, event);
    return rows;
  });
}
