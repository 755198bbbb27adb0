// Local ESLint rule: a service names only its own tables (eslint-rules/table-owners.js,
// docs/ARCHITECTURE.md §2). It reports, in services/web/src and services/transactions/src, a
// string or template literal that names a table another owner holds:
// - a whole literal that is a call argument, as Knex takes table names: db('users'),
//   .join('users as u', …), .from('users');
// - SQL text: `from users`, `join users`, `update users`, `into users`, `table users` (word
//   boundaries, so `users_count` or a French sentence is not a table).
// Other literals (a page name 'transactions', a log message) are left alone.
import { TABLE_OWNERS } from './table-owners.js';

const NAMES = Object.keys(TABLE_OWNERS).join('|');
// eslint-disable-next-line security/detect-non-literal-regexp -- built from our own table names
const KNEX_NAME = new RegExp(`^\\s*"?(${NAMES})"?(?:\\s+(?:as\\s+)?\\w+)?\\s*$`, 'i');
// eslint-disable-next-line security/detect-non-literal-regexp -- built from our own table names
const IN_SQL = new RegExp(`\\b(?:from|join|update|into|table)\\s+"?(${NAMES})"?(?![\\w.])`, 'gi');

/** The service a file belongs to, from its path; undefined outside the two services. */
function serviceOf(filename) {
  const match = /(?:^|[\\/])services[\\/](web|transactions)[\\/]src[\\/]/.exec(filename);
  return match ? match[1] : undefined;
}

function foreign(service, table) {
  const entry = TABLE_OWNERS[table.toLowerCase()];
  if (!entry || entry.owner === service || entry.readers?.includes(service)) return undefined;
  const owner = entry.owner === 'shared' ? 'the shared infrastructure' : `the ${entry.owner} service`;
  return { table: table.toLowerCase(), owner, instead: entry.instead ?? 'ask its owner' };
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'A service names only the tables it owns (eslint-rules/table-owners.js).' },
    schema: [],
    messages: {
      foreign: '`{{table}}` belongs to {{owner}}: {{instead}} (docs/ARCHITECTURE.md §2).',
    },
  },
  create(context) {
    const service = serviceOf(context.filename);
    if (!service) return {};

    function check(node, text) {
      const found = new Set();
      const whole = KNEX_NAME.exec(text);
      if (whole && node.parent?.type === 'CallExpression' && node.parent.arguments.includes(node)) found.add(whole[1]);
      for (const match of text.matchAll(IN_SQL)) found.add(match[1]);
      for (const table of found) {
        const problem = foreign(service, table);
        if (problem) context.report({ node, messageId: 'foreign', data: problem });
      }
    }

    return {
      Literal(node) {
        if (typeof node.value === 'string') check(node, node.value);
      },
      TemplateLiteral(node) {
        // The interpolations become a placeholder word, so `from ${x} join users` still reads as SQL.
        check(node, node.quasis.map((q) => q.value.cooked ?? q.value.raw).join(' _ '));
      },
    };
  },
};
