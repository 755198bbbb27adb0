import { expect } from 'chai';
import { isDbUnavailable, toAppError } from '#shared/errors.js';

/** Errors shaped as node-postgres, node-sqlite3, knex and Node's sockets raise them. */
function withCode(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDbUnavailable: the one classifier of "the database is away"', () => {
  const away: Array<[string, unknown]> = [
    ['PostgreSQL admin shutdown 57P01', withCode('57P01', 'terminating connection due to administrator command')],
    ['PostgreSQL starting up 57P03', withCode('57P03', 'the database system is starting up')],
    ['PostgreSQL connection failure 08006', withCode('08006')],
    ['PostgreSQL any class-08 code (08P01)', withCode('08P01')],
    ['too many connections 53300', withCode('53300')],
    ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['EPIPE', withCode('EPIPE')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['SQLite lock held past busy_timeout', withCode('SQLITE_BUSY', 'SQLITE_BUSY: database is locked')],
    ['SQLite file cannot be opened', withCode('SQLITE_CANTOPEN')],
    [
      'knex pool acquire timeout',
      Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), {
        name: 'KnexTimeoutError',
      }),
    ],
    ['node-postgres without a code', new Error('Connection terminated unexpectedly')],
    ['an AggregateError of refused connects', new AggregateError([withCode('ECONNREFUSED')], 'connect failed')],
    ['a wrapped cause', new Error('query failed', { cause: withCode('57P01') })],
  ];
  for (const [name, err] of away) {
    it(`recognises ${name}, and toAppError makes it a 503 with Retry-After`, () => {
      expect(isDbUnavailable(err)).to.equal(true);
      const appError = toAppError(err);
      expect(appError.status).to.equal(503);
      expect(appError.code).to.equal('db_unavailable');
      expect(appError.headers['Retry-After']).to.equal('5');
    });
  }

  const notAway: Array<[string, unknown]> = [
    ['a check constraint 23514', withCode('23514', 'new row violates check constraint')],
    ['a unique violation 23505', withCode('23505')],
    ['a SQLite constraint', withCode('SQLITE_CONSTRAINT')],
    ['a programming error', new TypeError('x is not a function')],
    ['nothing', undefined],
  ];
  for (const [name, err] of notAway) {
    it(`does not take ${name} for an outage`, () => {
      expect(isDbUnavailable(err)).to.equal(false);
      expect(toAppError(err).status).to.equal(500);
    });
  }
});
