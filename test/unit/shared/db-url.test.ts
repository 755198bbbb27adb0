import { expect } from 'chai';
import { resolve } from 'node:path';
import { parseDatabaseUrl } from '#shared/db.js';

describe('DATABASE_URL parsing', () => {
  it('reads relative and absolute SQLite paths the SQLAlchemy way', () => {
    expect(parseDatabaseUrl('sqlite:///./relative.db')).to.deep.equal({
      client: 'sqlite3',
      connection: resolve('relative.db'),
    });
    expect(parseDatabaseUrl('sqlite:////data/transactions.db')).to.deep.equal({
      client: 'sqlite3',
      connection: '/data/transactions.db',
    });
  });

  it('passes PostgreSQL URLs through', () => {
    expect(parseDatabaseUrl('postgresql://u:p@db:5432/bankdb')).to.deep.equal({
      client: 'pg',
      connection: 'postgresql://u:p@db:5432/bankdb',
    });
  });
});
