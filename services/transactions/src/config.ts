import { int, loadServerConfig, type Env, type ServerConfig } from '#shared/config.js';

/** The transactions service: the shared server base (database, signing key) and its housekeeping. */
export interface TransactionsConfig extends ServerConfig {
  /** How long a refused transfer stays (history) before the housekeeping deletes it. */
  refusedTransferRetentionDays: number;
  /** How often the housekeeping runs. */
  purgeIntervalS: number;
}

export function loadTransactionsConfig(env: Env = process.env, version = '1.0.0'): TransactionsConfig {
  return {
    ...loadServerConfig('transactions', 5100, env, version),
    refusedTransferRetentionDays: int(env, 'REFUSED_TRANSFER_RETENTION_DAYS', 90, 1, 3650),
    purgeIntervalS: int(env, 'PURGE_INTERVAL_S', 5 * 60, 1, 24 * 3600),
  };
}
