import { ConfigError, int, loadServerConfig, raw, secret, url, type Env, type ServerConfig } from '#shared/config.js';
import { DEFAULT_TIME_ZONE } from './format.js';
import type { LoginLimits } from './auth/login-guard.js';
import { readTrustProxy, type TrustProxy } from './trusted-proxy.js';
import type { WriteLimitConfig } from './write-limits.js';

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/** The web service's configuration: the shared server base plus sessions, passwords and logins. */
export interface WebConfig extends ServerConfig {
  secretKey: string;
  transactionsUrl: string;
  trustProxy: TrustProxy;
  scrypt: ScryptParams;
  hashConcurrency: number;
  hashQueueMax: number;
  hashQueueTimeoutMs: number;
  sessionIdleTimeoutS: number;
  sessionAbsoluteTimeoutS: number;
  login: LoginLimits;
  writeLimits: WriteLimitConfig;
  /** How often expired sessions and login counters are deleted. */
  purgeIntervalS: number;
  /** The IANA zone pages show dates in (DISPLAY_TIME_ZONE). */
  displayTimeZone: string;
}

export const DEV_SECRET_KEY = 'dev-secret-key-change-me-dev-secret-key';

/** Password-hash cost; also read by the seed job, which hashes the demo users' password. */
export function readScryptParams(env: Env): ScryptParams {
  // OWASP-equivalent default: N=2^15, r=8, p=3.
  return {
    logN: int(env, 'SCRYPT_LOG_N', 15, 10, 20),
    r: int(env, 'SCRYPT_R', 8, 1, 32),
    p: int(env, 'SCRYPT_P', 3, 1, 16),
  };
}

/** An IANA time zone this Node's Intl knows ("Europe/Paris", "America/Martinique"), canonicalised. */
function timeZone(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  try {
    return new Intl.DateTimeFormat('fr-FR', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw new ConfigError(name, `must be an IANA time zone such as "Europe/Paris", got "${value}"`);
  }
}

export function loadWebConfig(env: Env = process.env, version = '1.0.0'): WebConfig {
  const server = loadServerConfig('web', 5000, env, version);
  const idle = int(env, 'SESSION_IDLE_TIMEOUT_S', 30 * 60, 60, 7 * 24 * 3600);
  const absolute = int(env, 'SESSION_ABSOLUTE_TIMEOUT_S', 8 * 3600, 60, 30 * 24 * 3600);
  if (absolute < idle) {
    throw new ConfigError('SESSION_ABSOLUTE_TIMEOUT_S', 'must not be shorter than SESSION_IDLE_TIMEOUT_S');
  }
  return {
    ...server,
    secretKey: secret(env, 'SECRET_KEY', DEV_SECRET_KEY, server.nodeEnv === 'production'),
    transactionsUrl: url(env, 'TRANSACTIONS_URL', 'http://127.0.0.1:5100'),
    trustProxy: readTrustProxy(env),
    scrypt: readScryptParams(env),
    hashConcurrency: int(env, 'HASH_CONCURRENCY', 0, 0, 64),
    hashQueueMax: int(env, 'HASH_QUEUE_MAX', 64, 1, 10_000),
    hashQueueTimeoutMs: int(env, 'HASH_QUEUE_TIMEOUT_MS', 5_000, 100, 60_000),
    sessionIdleTimeoutS: idle,
    sessionAbsoluteTimeoutS: absolute,
    login: {
      maxPerUserAndIp: int(env, 'LOGIN_MAX_FAILURES_PER_USER_AND_IP', 5, 1, 1000),
      maxPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 100, 1, 100_000),
      windowS: int(env, 'LOGIN_FAILURE_WINDOW_S', 15 * 60, 1, 24 * 3600),
      slowAfter: int(env, 'LOGIN_SLOW_AFTER_FAILURES', 10, 1, 100_000),
      maxDelayMs: int(env, 'LOGIN_MAX_DELAY_MS', 3_000, 0, 30_000),
    },
    writeLimits: {
      registrationsPerIp: int(env, 'REGISTER_MAX_PER_IP', 10, 1, 1_000_000),
      registrationWindowS: int(env, 'REGISTER_WINDOW_S', 3600, 1, 7 * 24 * 3600),
      transfersPerSession: int(env, 'TRANSFER_MAX_PER_SESSION', 20, 1, 10_000_000),
      transfersPerUser: int(env, 'TRANSFER_MAX_PER_USER', 40, 1, 10_000_000),
      transferWindowS: int(env, 'TRANSFER_WINDOW_S', 60, 1, 24 * 3600),
      openingsPerSession: int(env, 'ACCOUNT_OPENING_MAX_PER_SESSION', 5, 1, 1_000_000),
      openingsPerUser: int(env, 'ACCOUNT_OPENING_MAX_PER_USER', 10, 1, 1_000_000),
      openingWindowS: int(env, 'ACCOUNT_OPENING_WINDOW_S', 3600, 1, 7 * 24 * 3600),
    },
    purgeIntervalS: int(env, 'PURGE_INTERVAL_S', 5 * 60, 1, 24 * 3600),
    displayTimeZone: timeZone(env, 'DISPLAY_TIME_ZONE', DEFAULT_TIME_ZONE),
  };
}
