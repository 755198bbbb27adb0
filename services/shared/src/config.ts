/**
 * The configuration every process shares (base), read once from the environment and validated at
 * start-up, plus the readers each service's own config (web/src/config.ts,
 * transactions/src/config.ts) is built with. A bad or missing variable throws a ConfigError naming
 * it; server files print it and exit 1.
 */
import { readFileSync } from 'node:fs';

export type ServiceName = 'web' | 'transactions' | 'jobs';
export type NodeEnv = 'development' | 'production' | 'test';
export type Env = Record<string, string | undefined>;

export interface BaseConfig {
  service: ServiceName;
  nodeEnv: NodeEnv;
  databaseUrl: string;
  logLevel: string;
  version: string;
}

/** What a process that listens adds to the base: where, which colour, how it stops. */
export interface ServerConfig extends BaseConfig {
  host: string;
  port: number;
  appColor: string;
  signing: { keyId: string; secret: string };
  keepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
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

export const DEV_SIGNING_SECRET = 'dev-signing-secret-change-me-dev-signing';
export const DEFAULT_DATABASE_URL = 'sqlite:///./data/transactions.db';
const MIN_SECRET_LENGTH = 32;

/** The secrets a process may read from a file (Docker/Swarm secrets under /run/secrets). */
export const SECRET_FILE_VARIABLES = ['DATABASE_URL', 'SECRET_KEY', 'SERVICE_SIGNING_SECRET'] as const;

/**
 * The environment with each secret given as NAME_FILE (a path, e.g. /run/secrets/bank_secret_key
 * in the Swarm stack) replaced by NAME and the file's content, so that the secret never sits in
 * the service's spec or `docker inspect`. Giving both NAME and NAME_FILE, or a file that cannot be
 * read or is empty, throws a ConfigError naming NAME_FILE.
 */
export function withSecretFiles(env: Env, read: (path: string) => string = readSecretFile): Env {
  const resolved: Env = { ...env };
  for (const name of SECRET_FILE_VARIABLES) {
    const file = raw(env, `${name}_FILE`);
    if (file === undefined) continue;
    if (raw(env, name) !== undefined)
      throw new ConfigError(`${name}_FILE`, `and ${name} are both set; give one of them`);
    let value: string;
    try {
      value = read(file).trim();
    } catch (err) {
      throw new ConfigError(
        `${name}_FILE`,
        `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${file})`,
      );
    }
    if (value === '') throw new ConfigError(`${name}_FILE`, `names an empty file (${file})`);
    resolved[name] = value;
    delete resolved[`${name}_FILE`];
  }
  return resolved;
}

function readSecretFile(path: string): string {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the path is the operator's NAME_FILE setting
  return readFileSync(path, 'utf8');
}

export function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

export function secret(env: Env, name: string, devDefault: string, production: boolean): string {
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

export function url(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  try {
    const parsed = new URL(value);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('protocol');
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
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

/**
 * The release this process runs: APP_RELEASE (the image tag the deploy started it from, e.g. v1.2.0
 * or a commit SHA) when set, else the package version.
 */
function release(env: Env, packageVersion: string): string {
  const value = raw(env, 'APP_RELEASE');
  if (value === undefined) return packageVersion;
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(value)) {
    throw new ConfigError('APP_RELEASE', `must be an image tag such as v1.2.0 or a commit SHA, got "${value}"`);
  }
  return value;
}

export function loadBaseConfig(service: ServiceName, env: Env = process.env, version = '1.0.0'): BaseConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  return {
    service,
    nodeEnv,
    databaseUrl: databaseUrl(env, nodeEnv === 'production'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    version: release(env, version),
  };
}

export function loadServerConfig(
  service: 'web' | 'transactions',
  defaultPort: number,
  env: Env = process.env,
  version = '1.0.0',
): ServerConfig {
  const base = loadBaseConfig(service, env, version);
  const appColor = raw(env, 'APP_COLOR') ?? 'local';
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(appColor)) {
    throw new ConfigError('APP_COLOR', `must be a short lowercase name such as blue or green, got "${appColor}"`);
  }
  return {
    ...base,
    host: raw(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', defaultPort, 0, 65535),
    appColor,
    signing: {
      keyId: raw(env, 'SERVICE_SIGNING_KEY_ID') ?? 'k1',
      secret: secret(env, 'SERVICE_SIGNING_SECRET', DEV_SIGNING_SECRET, base.nodeEnv === 'production'),
    },
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 65_000, 1_000, 600_000),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 20_000, 0, 300_000),
  };
}
