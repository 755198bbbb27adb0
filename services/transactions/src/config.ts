import { loadServerConfig, type Env, type ServerConfig } from '#shared/config.js';

/** The transactions service needs nothing beyond the shared server base (database, signing key). */
export type TransactionsConfig = ServerConfig;

export function loadTransactionsConfig(env: Env = process.env, version = '1.0.0'): TransactionsConfig {
  return loadServerConfig('transactions', 5100, env, version);
}
