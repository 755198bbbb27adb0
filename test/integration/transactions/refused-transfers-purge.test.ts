import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { createDb } from '#shared/db.js';
import { parseAmount } from '#shared/contract/money.js';
import { purgeRefusedTransfers, startHousekeeping } from '#transactions/housekeeping.js';
import { executeMovement } from '#transactions/ledger/transfers.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { fund, makeUser, migrate, newKey, silentLogger, type TestUser } from '../../helpers/fixtures.js';

const DAY_MS = 24 * 3600 * 1000;

/** Refused transfers are kept for the user's history for a bounded time, then purged; accepted ones stay. */
describeEachDatabase('purge of old refused transfers', ({ db }) => {
  let payer: TestUser;
  let payee: TestUser;

  before(async () => {
    await migrate(db());
    const admin = await makeUser(db(), 'admin', true);
    payer = await makeUser(db(), 'payer');
    payee = await makeUser(db(), 'payee');
    await fund(db(), admin, payer.primary, '10.00');
  });

  const send = (amount: string) =>
    executeMovement(db(), payer.id, {
      kind: 'transfer',
      idempotencyKey: newKey(),
      fromAccount: payer.primary,
      to: payee.primary,
      amountCents: parseAmount(amount),
      label: undefined,
    });

  it('deletes refused transfers older than the retention, never an accepted one nor a recent refusal', async () => {
    expect((await send('1.00')).outcome).to.equal('succeeded');
    expect((await send('500.00')).outcome).to.equal('refused');
    expect((await send('600.00')).outcome).to.equal('refused');
    const rows = () => db()('transfers').where({ initiated_by: payer.id }).orderBy('id').select('status');
    expect((await rows()).map((r: { status: string }) => r.status)).to.deep.equal(['succeeded', 'failed', 'failed']);
    expect(await purgeRefusedTransfers(db(), 90), 'nothing is 90 days old').to.equal(0);
    expect(await purgeRefusedTransfers(db(), 90, Date.now() + 91 * DAY_MS)).to.equal(2);
    expect((await rows()).map((r: { status: string }) => r.status)).to.deep.equal(['succeeded']);
  });

  it('runs on a schedule and stops with the service', async () => {
    expect((await send('700.00')).outcome).to.equal('refused');
    // Retention of 1 day, with the refusal made to look 2 days old.
    await db()('transfers')
      .where({ initiated_by: payer.id, status: 'failed' })
      .update({ created_at: new Date(Date.now() - 2 * DAY_MS).toISOString() });
    const housekeeping = startHousekeeping(db(), silentLogger, { intervalMs: 20, retentionDays: 1 });
    try {
      for (let i = 0; i < 100; i += 1) {
        if (!(await db()('transfers').where({ initiated_by: payer.id, status: 'failed' }).first())) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await housekeeping.stop();
    }
    expect(await db()('transfers').where({ initiated_by: payer.id, status: 'failed' }).first()).to.equal(undefined);
  });
});

describe('the purge of refused transfers when the database is away', () => {
  it('logs a warning each round and keeps running, instead of stopping the service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bank-purge-'));
    const db = createDb(`sqlite://${join(dir, 'bank.db')}`);
    await db.destroy(); // every query now fails, as when the database is unreachable
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const housekeeping = startHousekeeping(db, logger, { intervalMs: 10, retentionDays: 1 });
    try {
      for (let i = 0; i < 200 && lines.length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await housekeeping.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(lines.length, 'two rounds logged').to.be.at.least(2);
    for (const line of lines) expect(line).to.include({ level: 40, msg: 'purge of old refused transfers failed' });
  });
});
