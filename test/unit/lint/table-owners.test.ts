import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNEX_TABLES, TABLE_OWNERS } from '../../../eslint-rules/table-owners.js';

/**
 * The ownership map the lint rule enforces (eslint-rules/table-owners.js) must say what
 * docs/ARCHITECTURE.md §2 says, and know every table or view a migration creates: a new table
 * without an owner would escape the rule.
 */
const OWNERS = ['web', 'transactions', 'shared'];

/** `| \`users\` | web | …` rows of the ownership table in §2. */
function documentedOwners(): Map<string, string> {
  const doc = readFileSync('docs/ARCHITECTURE.md', 'utf8');
  const start = doc.indexOf('\n## 2.');
  const section = doc.slice(start, doc.indexOf('\n## 3.', start));
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\| `(\w+)` \| (\w+) \|/gm)) rows.set(match[1] as string, match[2] as string);
  return rows;
}

/** Every table or view created by a migration file, with the file that creates it. */
function createdByMigrations(): Map<string, string> {
  const created = new Map<string, string>();
  for (const service of readdirSync('services')) {
    const dir = join('services', service, 'src', 'migrations');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => /^\d+_.*\.ts$/.test(f));
    } catch {
      continue;
    }
    for (const file of files) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const match of source.matchAll(/createTable(?:IfNotExists)?\(\s*'(\w+)'/g))
        created.set(match[1] as string, file);
      // A raw `create table if not exists x` would show up as a table named "if": loud, not missed.
      for (const match of source.matchAll(/create\s+(?:table|view)\s+(\w+)/gi)) {
        created.set((match[1] as string).toLowerCase(), file);
      }
    }
  }
  return created;
}

describe('table ownership map', () => {
  it('gives every table one of the three owners', () => {
    for (const [table, entry] of Object.entries(TABLE_OWNERS)) expect(OWNERS, table).to.include(entry.owner);
  });

  it('says exactly what docs/ARCHITECTURE.md §2 says', () => {
    const documented = documentedOwners();
    expect(documented.size, 'ownership table found in §2').to.be.greaterThan(0);
    const mapped = new Map(Object.entries(TABLE_OWNERS).map(([table, entry]) => [table, entry.owner]));
    expect(Object.fromEntries(documented)).to.deep.equal(Object.fromEntries(mapped));
  });

  it('knows every table and view the migrations create, and no table that none creates', () => {
    const created = createdByMigrations();
    expect(created.size).to.be.greaterThan(10);
    const unknown = [...created].filter(([table]) => !(table in TABLE_OWNERS)).map(([t, f]) => `${t} (${f})`);
    expect(unknown, 'tables without an owner in eslint-rules/table-owners.js').to.deep.equal([]);
    const stale = Object.keys(TABLE_OWNERS).filter((t) => !created.has(t) && !KNEX_TABLES.includes(t));
    expect(stale, 'tables no migration creates').to.deep.equal([]);
  });
});
