import type { Knex } from 'knex';
import { AUDIT_GENESIS_HASH, auditHash, type AuditRow } from './audit.js';
import { dbClient } from './db.js';

/** `rows` sealed rows checked; `unsealed` rows written but not chained yet (the sealer's next round). */
export type ChainCheck =
  | { ok: true; rows: number; unsealed: number }
  | { ok: false; rows: number; brokenAt: string }
  | { ok: false; missing: true };

const BATCH = 1_000;

/**
 * Walks the audit chain in sequence order and stops at the first break: a row whose hash does not
 * match its content (edited), whose previous hash is not the hash of the row before (one deleted
 * or inserted out of turn), a gap in the sequence, or a head (audit_chain) that does not end where
 * the rows end (the last rows deleted). Reads one snapshot, so that the services' sealers, which
 * keep chaining new rows meanwhile, cannot make a whole chain look cut.
 */
export async function verifyAuditChain(db: Knex): Promise<ChainCheck> {
  if (!(await db.schema.hasTable('audit_events')) || !(await db.schema.hasTable('audit_chain'))) {
    return { ok: false, missing: true };
  }
  return dbClient(db) === 'pg'
    ? db.transaction(walkChain, { isolationLevel: 'repeatable read', readOnly: true })
    : db.transaction(walkChain);
}

async function walkChain(db: Knex.Transaction): Promise<ChainCheck> {
  let previousHash = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  let rows = 0;
  for (;;) {
    const batch = (await db<AuditRow>('audit_events')
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(BATCH)) as AuditRow[];
    for (const row of batch) {
      const at = `row id ${row.id} (seq ${row.seq})`;
      if (Number(row.seq) !== expectedSeq) {
        return { ok: false, rows, brokenAt: `${at}: seq ${expectedSeq} is missing (a row was deleted)` };
      }
      if (row.prev_hash !== previousHash) {
        return { ok: false, rows, brokenAt: `${at}: its previous hash is not the hash of seq ${expectedSeq - 1}` };
      }
      if (auditHash(row) !== row.hash) {
        return { ok: false, rows, brokenAt: `${at}: its content does not match its hash (the row was edited)` };
      }
      previousHash = row.hash;
      expectedSeq += 1;
      rows += 1;
    }
    if (batch.length < BATCH) break;
  }
  const head = (await db('audit_chain').where({ id: 1 }).first()) as
    { seq: number | string; last_hash: string } | undefined;
  if (!head || Number(head.seq) !== rows || head.last_hash !== previousHash) {
    return {
      ok: false,
      rows,
      brokenAt: `the chain head (audit_chain) says seq ${head ? Number(head.seq) : 'none'}, the rows end at seq ${rows}: the last rows were deleted`,
    };
  }
  const unsealed = await db('audit_events').whereNull('hash').count<{ n: number | string }[]>({ n: '*' }).first();
  return { ok: true, rows, unsealed: Number(unsealed?.n ?? 0) };
}
