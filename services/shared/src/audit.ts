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

/** The hash of a row: SHA-256 over the previous hash and every column but `id` and `hash`. */
export function auditHash(row: Omit<AuditRow, 'id' | 'hash'>): string {
  const content = JSON.stringify([
    Number(row.seq),
    row.occurred_at,
    row.request_id,
    row.actor_id === null ? null : Number(row.actor_id),
    row.actor,
    row.client_ip,
    row.event,
    row.outcome,
    row.details,
  ]);
  return createHash('sha256').update(`${row.prev_hash}\n${content}`).digest('hex');
}

interface ChainHead {
  seq: number | string;
  last_hash: string;
}

async function append(trx: Knex.Transaction, event: AuditEvent): Promise<void> {
  const context = requestContext.getStore();
  // Taking the head first (an UPDATE) makes concurrent writers take turns until commit: on
  // PostgreSQL the row lock, re-read after the wait; on SQLite the write lock.
  const heads = (await trx('audit_chain')
    .where({ id: 1 })
    .update({ seq: trx.raw('seq + 1') })
    .returning(['seq', 'last_hash'])) as ChainHead[];
  const head = heads[0];
  if (!head) throw new Error('audit_chain has no head row: run the migrations');
  const row = {
    seq: Number(head.seq),
    occurred_at: new Date().toISOString(),
    request_id: event.requestId ?? context?.requestId ?? null,
    actor_id: event.actorId ?? null,
    actor: event.actor ?? null,
    client_ip: event.clientIp ?? context?.clientIp ?? null,
    event: event.event,
    outcome: event.outcome,
    details: JSON.stringify(event.details ?? {}),
    prev_hash: head.last_hash,
  };
  const hash = auditHash(row);
  const insert = trx('audit_events').insert({ ...row, hash });
  if (dbClient(trx) === 'pg') {
    // One round trip fewer while the head is locked: the row and the new head in one statement.
    await trx.raw('with appended as (?) update audit_chain set last_hash = ? where id = 1', [insert, hash]);
    return;
  }
  await insert;
  await trx('audit_chain').where({ id: 1 }).update({ last_hash: hash });
}

/**
 * Appends one event to the chain: inside `db`'s transaction when it is one (the action and its
 * audit row commit or roll back together), else in a transaction of its own.
 */
export async function recordAudit(db: Knex | Knex.Transaction, event: AuditEvent): Promise<void> {
  if ('commit' in db && typeof db.commit === 'function') {
    await append(db as Knex.Transaction, event);
    return;
  }
  await db.transaction((trx) => append(trx, event));
}
