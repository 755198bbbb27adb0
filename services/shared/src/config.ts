/**
 * Configuration read once from the environment and validated at start-up.
 * A bad or missing variable throws a ConfigError naming it; server files print it and exit 1.
 */

export type ServiceName = 'web' | 'transactions';
export type NodeEnv = 'development' | 'production' | 'test';

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

export interface Config {
  service: ServiceName;
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  databaseUrl: string;
  appColor: string;
  logLevel: string;
  version: string;
  signing: { keyId: string; secret: string };
  keepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** web only */
  secretKey: string;
  transactionsUrl: string;
  trustProxy: boolean;
  scrypt: ScryptParams;
  hashConcurrency: number;
  hashQueueMax: number;
  hashQueueTimeoutMs: number;
  sessionIdleTimeoutS: number;
  sessionAbsoluteTimeoutS: number;
  loginMaxFailuresPerUser: number;
  loginMaxFailuresPerIp: number;
  loginFailureWindowS: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export const DEV_SECRET_KEY = 'dev-secret-key-change-me-dev-secret-key';
export const DEV_SIGNING_SECRET = 'dev-signing-secret-change-me-dev-signing';
export const DEFAULT_DATABASE_URL = 'sqlite:///./data/transactions.db';
const MIN_SECRET_LENGTH = 32;

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function secret(env: Env, name: string, devDefault: string, production: boolean): string {
  const value = raw(env, name);
  if (value === undefined) {
    if (production) throw new ConfigError(name, 'is required in production');
    return devDefault;
  }
  if (production && value === devDefault) {
    throw new ConfigError(name, 'must not be the development default in production');
  }
  if (production && value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(name, `must be at least ${MIN_SECRET_LENGTH} characters in production`);
  }
  return value;
}

function databaseUrl(env: Env, production: boolean): string {
  const value = raw(env, 'DATABASE_URL');
  if (value === undefined) {
    if (production) throw new ConfigError('DATABASE_URL', 'is required in production');
    return DEFAULT_DATABASE_URL;
  }
  if (!/^(sqlite:\/\/\/.+|postgres(ql)?:\/\/.+)$/.test(value)) {
    throw new ConfigError(
      'DATABASE_URL',
      'must look like sqlite:///./relative.db, sqlite:////absolute.db or postgresql://user:pass@host:5432/db',
    );
  }
  return value;
}

function url(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  try {
    const parsed = new URL(value);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('protocol');
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

export function loadConfig(service: ServiceName, env: Env = process.env, version = '1.0.0'): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const appColor = raw(env, 'APP_COLOR') ?? 'local';
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(appColor)) {
    throw new ConfigError('APP_COLOR', `must be a short lowercase name such as blue or green, got "${appColor}"`);
  }
  const idle = int(env, 'SESSION_IDLE_TIMEOUT_S', 30 * 60, 60, 7 * 24 * 3600);
  const absolute = int(env, 'SESSION_ABSOLUTE_TIMEOUT_S', 8 * 3600, 60, 30 * 24 * 3600);
  if (absolute < idle) {
    throw new ConfigError('SESSION_ABSOLUTE_TIMEOUT_S', 'must not be shorter than SESSION_IDLE_TIMEOUT_S');
  }
  return {
    service,
    nodeEnv,
    host: raw(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', service === 'web' ? 5000 : 5100, 0, 65535),
    databaseUrl: databaseUrl(env, production),
    appColor,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    version,
    signing: {
      keyId: raw(env, 'SERVICE_SIGNING_KEY_ID') ?? 'k1',
      secret: secret(env, 'SERVICE_SIGNING_SECRET', DEV_SIGNING_SECRET, production),
    },
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 65_000, 1_000, 600_000),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 20_000, 0, 300_000),
    secretKey: service === 'web' ? secret(env, 'SECRET_KEY', DEV_SECRET_KEY, production) : '',
    transactionsUrl: url(env, 'TRANSACTIONS_URL', 'http://127.0.0.1:5100'),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    // OWASP-equivalent default: N=2^15, r=8, p=3.
    scrypt: {
      logN: int(env, 'SCRYPT_LOG_N', 15, 10, 20),
      r: int(env, 'SCRYPT_R', 8, 1, 32),
      p: int(env, 'SCRYPT_P', 3, 1, 16),
    },
    hashConcurrency: int(env, 'HASH_CONCURRENCY', 0, 0, 64),
    hashQueueMax: int(env, 'HASH_QUEUE_MAX', 64, 1, 10_000),
    hashQueueTimeoutMs: int(env, 'HASH_QUEUE_TIMEOUT_MS', 5_000, 100, 60_000),
    sessionIdleTimeoutS: idle,
    sessionAbsoluteTimeoutS: absolute,
    loginMaxFailuresPerUser: int(env, 'LOGIN_MAX_FAILURES_PER_USER', 5, 1, 1000),
    loginMaxFailuresPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 30, 1, 100_000),
    loginFailureWindowS: int(env, 'LOGIN_FAILURE_WINDOW_S', 15 * 60, 1, 24 * 3600),
  };
}
