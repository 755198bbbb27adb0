import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Queryable } from './db.js';
import type { Logger } from './logger.js';
import { startPeriodic, type PeriodicJob } from './periodic.js';
import { requestContext } from './request-context.js';

/**
 * The audit trail: one shared helper, and each service writes its own events with it, in the same
 * transaction as the action it records (docs/ARCHITECTURE.md §9). The web service writes logins,
 * logouts, registrations, admin page views and the refusals of its rate limits; the transactions
 * service writes account openings. A transfer's or a deposit's row is written by the database, in
 * the transfer's own INSERT (trigger `transfers_audited`, transactions migration 20261205000500),
 * so that a transfer stays one statement. Rows are written unsealed and chained shortly after by
 * sealAuditTrail, which every replica runs every second (startAuditSealer).
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

/** One stored row, as hashed and verified. `seq`, `prev_hash` and `hash` are null until sealed. */
export interface AuditRow {
  id: number | string;
  seq: number | string | null;
  occurred_at: string;
  request_id: string | null;
  actor_id: number | string | null;
  actor: string | null;
  client_ip: string | null;
  event: string;
  outcome: string;
  details: string;
  prev_hash: string | null;
  hash: string | null;
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
  return createHash('sha256')
    .update(`${row.prev_hash ?? ''}\n${content}`)
    .digest('hex');
}

/**
 * Writes one event, unsealed, with `db`: inside its transaction when it is one, so the action and
 * its audit row commit or roll back together. One INSERT and no lock: writers never wait for each
 * other. The sealer (sealAuditTrail) chains the row within a second.
 */
export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  const context = requestContext.getStore();
  await db('audit_events').insert({
    occurred_at: new Date().toISOString(),
    request_id: event.requestId ?? context?.requestId ?? null,
    actor_id: event.actorId ?? null,
    actor: event.actor ?? null,
    client_ip: event.clientIp ?? context?.clientIp ?? null,
    event: event.event,
    outcome: event.outcome,
    details: JSON.stringify(event.details ?? {}),
  });
}

/** What the audit page filters on; every field optional. `actorId` null matches no row. */
export interface AuditFilter {
  actorId?: number | null;
  event?: string;
  /** First UTC day (YYYY-MM-DD) included. */
  from?: string;
  /** Last UTC day (YYYY-MM-DD) included. */
  to?: string;
}

/**
 * One page of the audit trail, newest first (by id: rows not sealed yet come first), and whether
 * a next page exists. The trail's table belongs to this module: services read it through here.
 */
export async function readAuditTrail(
  db: Queryable,
  filter: AuditFilter,
  { page, pageSize }: { page: number; pageSize: number },
): Promise<{ rows: AuditRow[]; hasNext: boolean }> {
  const query = db<AuditRow>('audit_events');
  // An unknown name matches nothing (and a failed login on it has no actor).
  if (filter.actorId !== undefined) query.where('actor_id', filter.actorId ?? -1);
  if (filter.event) query.where('event', filter.event);
  if (filter.from) query.where('occurred_at', '>=', `${filter.from}T00:00:00.000Z`);
  if (filter.to) query.where('occurred_at', '<=', `${filter.to}T23:59:59.999Z`);
  const found = (await query
    .orderBy('id', 'desc')
    .offset((page - 1) * pageSize)
    .limit(pageSize + 1)) as AuditRow[];
  return { rows: found.slice(0, pageSize), hasNext: found.length > pageSize };
}

/** How often each replica seals: the longest a new row waits to be chained, give or take a round. */
export const AUDIT_SEAL_INTERVAL_MS = 1_000;

/** Rows sealed per transaction: a few milliseconds of the write lock on SQLite. */
export const AUDIT_SEAL_BATCH = 200;

/**
 * Chains the unsealed rows, oldest id first, onto the head (`audit_chain`): each gets the next
 * `seq`, the previous row's hash and its own. Taking the head first (an UPDATE) makes sealers take
 * turns: every replica of both services runs one, and a second one finds nothing left to seal.
 * The database lets an UPDATE through only when it seals an unsealed row and changes nothing
 * else (migration 20261205000400). Returns the number of rows sealed.
 */
export async function sealAuditTrail(db: Knex, batch = AUDIT_SEAL_BATCH): Promise<number> {
  // The partial index answers this without a transaction, so an idle trail costs one read.
  if (!(await db('audit_events').whereNull('hash').first('id'))) return 0;
  return db.transaction(async (trx) => {
    const [head] = (await trx('audit_chain')
      .where({ id: 1 })
      .update({ seq: trx.raw('seq') })
      .returning(['seq', 'last_hash'])) as Array<{ seq: number | string; last_hash: string }>;
    if (!head) throw new Error('audit_chain has no head row: run the migrations');
    const rows = (await trx('audit_events').whereNull('hash').orderBy('id').limit(batch)) as AuditRow[];
    if (rows.length === 0) return 0;
    let seq = Number(head.seq);
    let previous = head.last_hash;
    const sealed: Array<[number, number, string, string]> = [];
    for (const row of rows) {
      seq += 1;
      const hash = auditHash({ ...row, seq, prev_hash: previous });
      sealed.push([Number(row.id), seq, previous, hash]);
      previous = hash;
    }
    const values = sealed.map(() => '(cast(? as bigint), cast(? as bigint), ?, ?)').join(', ');
    const result = (await trx.raw(
      `with sealed (id, seq, prev_hash, hash) as (values ${values})
       update audit_events set seq = sealed.seq, prev_hash = sealed.prev_hash, hash = sealed.hash
       from sealed where audit_events.id = sealed.id and audit_events.hash is null`,
      sealed.flat(),
    )) as { rowCount?: number; changes?: number } | undefined;
    const changed = result?.rowCount ?? result?.changes;
    if (changed !== undefined && changed !== sealed.length) {
      throw new Error(`audit seal: ${sealed.length} rows read, ${changed} sealed`);
    }
    await trx('audit_chain').where({ id: 1 }).update({ seq, last_hash: previous });
    return sealed.length;
  });
}

/**
 * Seals every `intervalMs` all that is waiting, in batches; graceful shutdown seals what is left
 * once more, so that a replica stopped by a flip leaves nothing unsealed behind it.
 */
export function startAuditSealer(db: Knex, logger: Logger, intervalMs = AUDIT_SEAL_INTERVAL_MS): PeriodicJob {
  async function sealAll() {
    try {
      while ((await sealAuditTrail(db)) === AUDIT_SEAL_BATCH);
    } catch (err) {
      // The database may be away, or another sealer held the head past busy_timeout: next round.
      logger.warn({ err: (err as Error).message }, 'audit trail: sealing failed, retried next round');
    }
  }
  return startPeriodic(intervalMs, sealAll, sealAll);
}
