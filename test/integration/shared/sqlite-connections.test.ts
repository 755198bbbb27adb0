import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createDb, type Knex } from '#shared/db.js';

/**
 * A process keeps several connections to a SQLite file (db.ts, SQLITE_CONNECTIONS): a page's
 * reads must not queue behind another request's write transaction, and writes still take turns.
 */
describe('SQLite connections of one process', () => {
  let dir: string;
  let db: Knex;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fintech-sqlite-'));
    db = createDb(`sqlite:///${join(dir, 'bank.db')}`);
    await db.schema.createTable('notes', (t) => {
      t.increments('id');
      t.string('text').notNullable();
    });
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a read while another request holds the write lock, without seeing its uncommitted row', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const writing = new Promise<void>((resolve) => (inserted = resolve));
    const writer = db.transaction(async (trx) => {
      await trx('notes').insert({ text: 'uncommitted' });
      inserted();
      await held;
    });
    await writing;

    const rows = await Promise.race([
      db('notes').select('text'),
      new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 2_000)),
    ]);
    release();
    await writer;

    expect(rows).to.deep.equal([]);
    expect(await db('notes').pluck('text')).to.deep.equal(['uncommitted']);
  });

  it('lets concurrent writes take turns on the lock: every one of them lands', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        db.transaction(async (trx) => {
          await trx('notes').insert({ text: `note ${i}` });
          await trx('notes')
            .where({ text: `note ${i}` })
            .update({ text: `note ${i} saved` });
        }),
      ),
    );
    const texts = await db('notes').pluck('text');
    expect(texts).to.have.length(40);
    expect(texts.every((t: string) => t.endsWith(' saved'))).to.equal(true);
  });
});
