import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import rule from '../../../eslint-rules/table-ownership.js';

/** The lint rule that keeps each service to its own tables (eslint-rules/table-ownership.js). */
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });

const TRANSACTIONS = 'services/transactions/src/ledger/example.ts';
const WEB = 'services/web/src/routes/example.ts';
const API = 'ask the transactions service through its signed API';
/** The messages a user of `npm run lint` reads, per table. */
const MESSAGES: Record<string, string> = {
  users: 'the web service: read it through the `account_holders` view',
  sessions: 'the web service: ask its owner',
  accounts: `the transactions service: ${API}`,
  transfers: `the transactions service: ${API}`,
  transactions: `the transactions service: ${API}`,
  audit_events: 'the shared infrastructure: use the functions of services/shared/src/audit.ts',
};
const foreign = (table: string) => ({
  message: `\`${table}\` belongs to ${MESSAGES[table]} (docs/ARCHITECTURE.md §2).`,
});

tester.run('table-ownership/no-foreign-table', rule, {
  valid: [
    // Its own tables, and the view the web service defines for the transactions service.
    { filename: TRANSACTIONS, code: `db('accounts').where({ user_id: 1 })` },
    { filename: TRANSACTIONS, code: `db('accounts as a').join('account_holders as h', 'h.id', 'a.user_id')` },
    { filename: TRANSACTIONS, code: 'trx.raw(`select * from transfers join accounts on accounts.id = 1`)' },
    { filename: WEB, code: `db<UserRow>('users').where({ id })` },
    { filename: WEB, code: `db('sessions as s').leftJoin('users as u', 'u.id', 's.user_id')` },
    // Ordinary words: a page name, a template, log and French messages.
    { filename: WEB, code: `render(ctx, 'transactions.html', { page: 'transactions' })` },
    { filename: WEB, code: `logger.error({ path }, 'transactions service unreachable')` },
    { filename: TRANSACTIONS, code: `refuse(404, 'unknown_user', 'Utilisateur inconnu : aucun des users.')` },
    { filename: TRANSACTIONS, code: `log('read from users_archive')` },
    { filename: TRANSACTIONS, code: `const label = 'users'` },
    // Outside the two services: the job composes both, tests and shared infrastructure are free.
    { filename: 'services/jobs/src/seed.ts', code: `trx('users').insert(row)` },
    { filename: 'test/integration/web/pages.test.ts', code: `db('accounts').where({ user_id: 1 })` },
    { filename: 'services/shared/src/audit.ts', code: `db('audit_events').insert(row)` },
  ],
  invalid: [
    { filename: TRANSACTIONS, code: `db('users').where({ id })`, errors: [foreign('users')] },
    {
      filename: TRANSACTIONS,
      code: `db('accounts as a').join('users as u', 'u.id', 'a.user_id')`,
      errors: [foreign('users')],
    },
    { filename: TRANSACTIONS, code: `db<Row>('Users')`, errors: [foreign('users')] },
    {
      filename: TRANSACTIONS,
      code: 'trx.raw(`update users set balance = ${b} where id = ?`, [id])',
      errors: [foreign('users')],
    },
    { filename: TRANSACTIONS, code: `db.raw('select id from "users" where id = ?', [id])`, errors: [foreign('users')] },
    { filename: TRANSACTIONS, code: `db.raw('delete from sessions')`, errors: [foreign('sessions')] },
    { filename: WEB, code: `db('accounts').where({ user_id })`, errors: [foreign('accounts')] },
    { filename: WEB, code: `db.raw('insert into transfers (id) values (1)')`, errors: [foreign('transfers')] },
    {
      filename: WEB,
      code: 'db.raw(`select * from transactions t join accounts a on a.number = t.account_id`)',
      errors: [foreign('transactions'), foreign('accounts')],
    },
    { filename: WEB, code: `db<AuditRow>('audit_events').orderBy('id')`, errors: [foreign('audit_events')] },
  ],
});
