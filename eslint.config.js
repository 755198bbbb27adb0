// ESLint flat config: typescript-eslint's recommended rules plus eslint-plugin-security, whose
// findings also feed the SAST report (scripts/ci/sast.sh).
import js from '@eslint/js';
import security from 'eslint-plugin-security';
import tseslint from 'typescript-eslint';
import tableOwnership from './eslint-rules/table-ownership.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'reports/', 'zap-reports/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  security.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Object keys here come from our own constants, not from user input.
      'security/detect-object-injection': 'off',
    },
  },
  // Service boundaries: a service reaches another one only through its #alias (package.json
  // "imports"), never by a relative path, and only in the allowed direction: shared imports no
  // service, web imports nothing of transactions (it writes no money table) and vice versa; only
  // the one-shot database job (services/jobs) composes both.
  ...[
    ['services/shared/**/*.ts', '^#(web|transactions|jobs)/'],
    ['services/web/**/*.ts', '^#(transactions|jobs)/'],
    ['services/transactions/**/*.ts', '^#(web|jobs)/'],
    ['services/jobs/**/*.ts', ''],
  ].map(([files, forbidden]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../../*'], message: 'Cross a service boundary through its #alias, not a relative path.' },
            ...(forbidden ? [{ regex: forbidden, message: 'This service must not import that one.' }] : []),
          ],
        },
      ],
    },
  })),
  // One owner per table (eslint-rules/table-owners.js, docs/ARCHITECTURE.md §2): the web and
  // transactions services name only their own tables. Not checked: services/jobs (it composes
  // both), services/shared (infrastructure: the audit trail, the migrations runner), shipped
  // migrations (frozen history) and tests.
  {
    files: ['services/web/src/**/*.ts', 'services/transactions/src/**/*.ts'],
    ignores: [
      'services/*/src/migrations/**',
      // The trigger DDL shipped migrations run, frozen at this path (only migrations import it):
      // history like them. Its users.balance mirror is the one write across owners left, until a
      // contract migration drops it (docs/ARCHITECTURE.md §3 says in which order).
      'services/transactions/src/ledger/rules.ts',
    ],
    plugins: { 'table-ownership': { rules: { 'no-foreign-table': tableOwnership } } },
    rules: { 'table-ownership/no-foreign-table': 'error' },
  },
  {
    files: ['k6/**/*.js'],
    languageOptions: { globals: { __VU: 'readonly', __ITER: 'readonly', __ENV: 'readonly' } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      // Tests build throw-away paths under the OS temp dir.
      'security/detect-non-literal-fs-filename': 'off',
    },
  },
);
