import { expect } from 'chai';
import { ALL_MIGRATIONS } from '#jobs/migrate.js';
import { migrationSource } from '#shared/migrations/runner.js';
import { insertUser } from '#web/auth/users.js';
import { describeEachDatabase } from '../../helpers/databases.js';
import { migrate } from '../../helpers/fixtures.js';

const USERNAME_KEY = '20261202000100_username_key';

/**
 * A database that already holds case-twins (registered before names were compared without
 * case): the migration keeps the oldest account under its name, renames the newer ones to
 * `<name>-<id>` (once more while taken), records each rename, then refuses any new twin.
 */
describeEachDatabase('the username key migration', ({ db }) => {
  const ids: Record<string, number> = {};

  before(async () => {
    const older = ALL_MIGRATIONS.filter(([name]) => name < USERNAME_KEY);
    await db().migrate.latest({ migrationSource: migrationSource(older) });
    for (const username of ['alice', 'Alice', 'alice-2', 'ALICE', 'bob']) {
      const [row] = await db()('users').insert({ username, password_hash: 'x' }).returning('id');
      ids[username] = Number((row as { id: number }).id);
    }
    await migrate(db());
  });

  it('keeps the oldest twin and renames the newer ones deterministically, keeping every account', async () => {
    const rows: Array<{ id: number; username: string; username_key: string }> = await db()('users')
      .select('id', 'username', 'username_key')
      .orderBy('id');
    // A fresh database: ids 1 to 5 in insertion order. `Alice-2` would be the twin of `alice-2`.
    expect(ids).to.deep.equal({ alice: 1, Alice: 2, 'alice-2': 3, ALICE: 4, bob: 5 });
    expect(rows.map((r) => [Number(r.id), r.username, r.username_key])).to.deep.equal([
      [1, 'alice', 'alice'],
      [2, 'Alice-2-2', 'alice-2-2'],
      [3, 'alice-2', 'alice-2'],
      [4, 'ALICE-4', 'alice-4'],
      [5, 'bob', 'bob'],
    ]);
    const renames = await db()('username_renames').orderBy('id').select('user_id', 'old_username', 'new_username');
    expect(
      renames.map((r: { user_id: number; old_username: string }) => [Number(r.user_id), r.old_username]),
    ).to.deep.equal([
      [2, 'Alice'],
      [4, 'ALICE'],
    ]);
  });

  it('refuses a new twin, and fills the key of a user inserted without one (the release on main)', async () => {
    expect(await insertUser(db(), { username: 'BOB', passwordHash: 'x' })).to.equal(undefined);
    // The release on main inserts the name only.
    await db()('users').insert({ username: 'Old_Release', password_hash: 'x' });
    const row = await db()('users').where({ username: 'Old_Release' }).first();
    expect(row.username_key).to.equal('old_release');
    let refused: unknown;
    await db()('users')
      .insert({ username: 'OLD_release', password_hash: 'x' })
      .catch((err: unknown) => (refused = err));
    expect(String(refused)).to.match(/unique|UNIQUE/);
  });
});
