// The environment `npm start` (scripts/start-local.mjs) gives the database job and the two
// services. Without SERVICE_SIGNING_SECRET / SECRET_KEY the services would fall back to the
// public development defaults written in the repository, with which anyone on the machine can
// sign internal calls as any user (the admin included) or forge session cookies: each run draws
// fresh random ones instead, shared by both services. A value set in the environment is kept.
import { randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: well above the 32 characters production requires. */
export function randomSecret() {
  return randomBytes(32).toString('base64url');
}

function given(env, name) {
  const value = env[name];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** `{ job, transactions, web }`: the environment of each child process, built from `env`. */
export function localEnvironments(env = process.env) {
  const common = {
    ...env,
    NODE_ENV: env.NODE_ENV ?? 'development',
    DATABASE_URL: env.DATABASE_URL ?? 'sqlite:///./data/transactions.db',
  };
  const signingSecret = given(env, 'SERVICE_SIGNING_SECRET') ?? randomSecret();
  const transactionsPort = env.TRANSACTIONS_PORT ?? '5100';
  return {
    job: common,
    transactions: { ...common, SERVICE_SIGNING_SECRET: signingSecret, HOST: '127.0.0.1', PORT: transactionsPort },
    web: {
      ...common,
      SERVICE_SIGNING_SECRET: signingSecret,
      SECRET_KEY: given(env, 'SECRET_KEY') ?? randomSecret(),
      PORT: env.PORT ?? '5000',
      TRANSACTIONS_URL: `http://127.0.0.1:${transactionsPort}`,
    },
  };
}
