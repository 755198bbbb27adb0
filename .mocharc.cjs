/* global module */
// Mocha's configuration. A JS file rather than JSON for one line: mocha re-launches Node with
// `node-option`, and the child inherits this environment. The services' thread pool size
// (services/shared/src/threadpool.ts) must be set before Node first uses the pool, which happens
// before any test file or root hook runs.
process.env.UV_THREADPOOL_SIZE ??= '16';

module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  recursive: true,
  timeout: 20000,
  exit: true,
  reporter: 'mocha-multi-reporters',
  'reporter-option': ['configFile=.mocha-reporters.json'],
  require: ['test/helpers/root-hooks.ts'],
};
