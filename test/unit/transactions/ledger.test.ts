import { expect } from 'chai';
import { ACCOUNT_NUMBER_PATTERN, normalizeAccountNumber } from '#shared/contract/accounts.js';
import { toIso } from '#shared/timestamps.js';
import { AppError } from '#shared/errors.js';
import { isRetryableDbError, withWriteRetry } from '#transactions/ledger/retry.js';
import { requestHash } from '#transactions/ledger/replay.js';
import { brokenRule, POSTED_BY, RULES, TABLE_CONSTRAINTS } from '#transactions/ledger/rule-catalogue.js';
import * as installed from '#transactions/ledger/rules.js';

const transfer = (over: Partial<{ fromAccount: string; to: string; amountCents: number; label: string }> = {}) => ({
  kind: 'transfer' as const,
  idempotencyKey: 'key-12345678',
  fromAccount: 'FT1234567890',
  to: 'bob',
  amountCents: 1000,
  label: undefined as string | undefined,
  ...over,
});

describe('money: idempotency payload identity', () => {
  it('treats the same transfer written differently as the same payload', () => {
    const base = requestHash(transfer());
    expect(requestHash(transfer({ fromAccount: 'ft12 3456 7890' }))).to.equal(base);
    expect(requestHash(transfer({ to: '  bob ' }))).to.equal(base);
    expect(requestHash(transfer({ to: 'FT1111111111' }))).to.equal(requestHash(transfer({ to: 'ft11 1111 1111' })));
  });

  it('treats any changed field, or a deposit instead of a transfer, as a different payload', () => {
    const base = requestHash(transfer());
    expect(requestHash(transfer({ amountCents: 1001 }))).not.to.equal(base);
    expect(requestHash(transfer({ to: 'Bob' }))).not.to.equal(base);
    expect(requestHash(transfer({ fromAccount: 'FT1234567891' }))).not.to.equal(base);
    expect(requestHash(transfer({ label: 'Loyer' }))).not.to.equal(base);
    const deposit = {
      kind: 'deposit' as const,
      idempotencyKey: 'key-12345678',
      to: 'bob',
      amountCents: 1000,
      label: undefined,
    };
    expect(requestHash(deposit)).not.to.equal(base);
  });
});

describe('money: account numbers and timestamps', () => {
  it('normalises typed account numbers', () => {
    expect(normalizeAccountNumber(' ft12 3456\t7890 ')).to.equal('FT1234567890');
    expect(ACCOUNT_NUMBER_PATTERN.test('FT1234567890')).to.equal(true);
    expect(ACCOUNT_NUMBER_PATTERN.test('FT123456789')).to.equal(false);
    expect(ACCOUNT_NUMBER_PATTERN.test('alice')).to.equal(false);
  });

  it('reads timestamps from either database as UTC ISO strings', () => {
    const iso = '2026-11-24T09:00:00.000Z';
    expect(toIso(iso)).to.equal(iso);
    expect(toIso(new Date(iso))).to.equal(iso);
    expect(toIso(Date.parse(iso))).to.equal(iso);
    expect(toIso('2026-11-24 09:00:00')).to.equal(iso);
  });
});

describe('money: bounded retry of write transactions', () => {
  const busy = () => Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
  const fast = { attempts: 4, baseDelayMs: 1 };

  it('recognises SQLite busy, PostgreSQL serialization failures and deadlocks only', () => {
    expect(isRetryableDbError(busy())).to.equal(true);
    expect(isRetryableDbError({ code: '40001' })).to.equal(true);
    expect(isRetryableDbError({ code: '40P01' })).to.equal(true);
    expect(isRetryableDbError({ code: '23505' })).to.equal(false);
    expect(isRetryableDbError(new Error('boom'))).to.equal(false);
  });

  it('runs the work again after a transient conflict and returns its result', async () => {
    let calls = 0;
    const result = await withWriteRetry(async () => {
      calls += 1;
      if (calls < 3) throw busy();
      return 'done';
    }, fast);
    expect(result).to.equal('done');
    expect(calls).to.equal(3);
  });

  it('gives up after the bound with a readable 503, never the raw database error', async () => {
    let calls = 0;
    const err = await withWriteRetry(async () => {
      calls += 1;
      throw { code: '40P01', message: 'deadlock detected' };
    }, fast).catch((e: unknown) => e);
    expect(calls).to.equal(4);
    expect(err).to.be.instanceOf(AppError);
    expect(err).to.include({ status: 503, code: 'busy' });
    expect((err as Error).message).to.match(/Réessayez/);
  });

  it('does not retry other errors, and turns a pool timeout into 503', async () => {
    let calls = 0;
    const other = await withWriteRetry(async () => {
      calls += 1;
      throw new Error('constraint failed');
    }, fast).catch((e: unknown) => e);
    expect(calls).to.equal(1);
    expect((other as Error).message).to.equal('constraint failed');
    const timeout = Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' });
    const shed = await withWriteRetry(async () => Promise.reject(timeout), fast).catch((e: unknown) => e);
    expect(shed).to.include({ status: 503, code: 'busy' });
  });
});

describe('money: database refusals mapped to rules', () => {
  it('reads PostgreSQL’s constraint name and SQLite’s message suffix, nothing else', () => {
    expect(brokenRule({ code: '23514', constraint: 'accounts_no_overdraft', message: 'x' })).to.equal(
      RULES.noOverdraft,
    );
    expect(brokenRule({ code: '23503', constraint: 'transfers_initiated_by_foreign' })).to.equal(
      TABLE_CONSTRAINTS.initiatorIsUser,
    );
    expect(brokenRule({ code: '23514', constraint: 'some_other_check' })).to.equal(undefined);
    const sqlite = (message: string) => ({ code: 'SQLITE_CONSTRAINT', message });
    expect(brokenRule(sqlite('insert into `transfers` (…) - SQLITE_CONSTRAINT: transfers_one_currency'))).to.equal(
      RULES.oneCurrency,
    );
    expect(
      brokenRule(sqlite('insert … - SQLITE_CONSTRAINT: CHECK constraint failed: transfers_amount_check')),
    ).to.equal(TABLE_CONSTRAINTS.positiveAmount);
    expect(brokenRule(sqlite('insert … - SQLITE_CONSTRAINT: FOREIGN KEY constraint failed'))).to.equal(
      TABLE_CONSTRAINTS.initiatorIsUser,
    );
    // A label quoting a rule's name inside the SQL does not count: only the driver's own text at the end.
    expect(
      brokenRule(sqlite("insert … 'accounts_no_overdraft' … - SQLITE_CONSTRAINT: UNIQUE constraint failed: x.y")),
    ).to.equal(undefined);
    expect(brokenRule(new Error('accounts_no_overdraft'))).to.equal(undefined);
  });

  it('knows every name the installed triggers and constraints refuse with (ledger/rules.ts, migration 20261202000300)', () => {
    for (const name of [...Object.values(installed.RULES), ...Object.values(installed.TABLE_CONSTRAINTS)]) {
      expect(brokenRule({ code: '23514', constraint: name }), name).to.equal(name);
      expect(
        brokenRule({ code: 'SQLITE_CONSTRAINT', message: `insert … - SQLITE_CONSTRAINT: ${name}` }),
        name,
      ).to.equal(name);
    }
    expect(POSTED_BY).to.equal(installed.POSTED_BY);
  });
});
