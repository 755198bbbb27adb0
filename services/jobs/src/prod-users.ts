import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { seedAccounts } from '#transactions/ledger/seed.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type PasswordHasher } from '#web/auth/passwords.js';
import { countUsers, findUserByUsername, insertUser, updatePasswordHash, type User } from '#web/auth/users.js';
import { SEED_PASSWORD, SEED_USERS } from '#web/seed.js';

/**
 * What PROD does with the demo customers (alice, bob, charlie, whose password the docs publish):
 * - `yes`: created with the demo password on an empty database (the gateway is on loopback);
 * - `no`: never created, and the job refuses to run while one still has the public password
 *   (the deploy would publish it beyond loopback);
 * - `lock`: never created, and any that still has the public password gets a random one that
 *   nobody knows (their data stays; nobody can log in as them any more).
 */
export const DEMO_CUSTOMER_MODES = ['yes', 'no', 'lock'] as const;
export type DemoCustomers = (typeof DEMO_CUSTOMER_MODES)[number];

export const DEMO_CUSTOMERS = SEED_USERS.filter((u) => !u.isAdmin).map((u) => u.username);

/** What seedProdUsers did with the admin's password. */
export type AdminOutcome = 'created' | 'rotated' | 'unchanged';

export class ProdUsersError extends Error {}

async function hasPublicPassword(db: Knex, hasher: PasswordHasher, username: string): Promise<boolean> {
  const row = await findUserByUsername(db, username);
  return row !== undefined && (await hasher.verify(row.password_hash, SEED_PASSWORD));
}

/** The demo customers that exist and still log in with the published password. */
export async function publicDemoCustomers(db: Knex, hasher: PasswordHasher): Promise<string[]> {
  if (!(await db.schema.hasTable('users'))) return [];
  const found: string[] = [];
  for (const username of DEMO_CUSTOMERS) if (await hasPublicPassword(db, hasher, username)) found.push(username);
  return found;
}

/**
 * Run before migrating with `no`: a database whose demo customers still have the public password
 * is not to be published; the job stops before it changes anything.
 */
export async function refusePublicDemoCustomers(db: Knex, hasher: PasswordHasher): Promise<void> {
  const found = await publicDemoCustomers(db, hasher);
  if (found.length > 0) {
    throw new ProdUsersError(
      `the demo customers ${found.join(', ')} still log in with the published password, and this deploy ` +
        'publishes PROD beyond loopback: set PROD_DEMO_CUSTOMERS=false to replace their passwords, ' +
        'or keep GATEWAY_BIND_ADDRESS on 127.0.0.1',
    );
  }
}

/** The admin's password as the deploy gives it (one line on stdin), checked like any password. */
export function checkAdminPassword(text: string | undefined): string {
  const password = (text ?? '').split('\n')[0]?.trim() ?? '';
  if (password === '') {
    throw new ProdUsersError(
      "PROD's admin password comes on the job's standard input; scripts/deploy_blue_green_local.sh " +
        'gives it (from <state>/prod-admin-password)',
    );
  }
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH || password === SEED_PASSWORD) {
    throw new ProdUsersError(
      `the admin password given on stdin must have ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters and not be the demo password`,
    );
  }
  return password;
}

/**
 * PROD's users after the migrations: no public password where PROD can be reached.
 * - Empty database: `admin` with the deploy's random password (`readAdminPassword`), plus the
 *   demo customers with their demo password when `demoCustomers` is `yes`, with their accounts.
 * - `admin` still logging in with the published password (a database seeded before this rule):
 *   its password becomes the deploy's.
 * - `lock`: demo customers still on the published password get a random one nobody knows.
 * The admin's password is read only when it is needed.
 */
export async function seedProdUsers(
  db: Knex,
  hasher: PasswordHasher,
  logger: Logger,
  options: { demoCustomers: DemoCustomers; readAdminPassword: () => string | undefined },
): Promise<AdminOutcome> {
  const adminHash = async () => hasher.hash(checkAdminPassword(options.readAdminPassword()));
  let outcome: AdminOutcome = 'unchanged';
  if ((await countUsers(db)) === 0) {
    const hash = await adminHash();
    const demoHash = options.demoCustomers === 'yes' ? await hasher.hash(SEED_PASSWORD) : undefined;
    const created = await db.transaction(async (trx) => {
      const users: User[] = [];
      for (const seed of SEED_USERS) {
        const passwordHash = seed.isAdmin ? hash : demoHash;
        if (passwordHash === undefined) continue;
        const user = await insertUser(trx, { username: seed.username, passwordHash, isAdmin: seed.isAdmin });
        if (user) users.push(user);
      }
      await seedAccounts(trx, users);
      return users.map((u) => u.username);
    });
    logger.info({ created }, 'seeded PROD users');
    if (created.includes('admin')) outcome = 'created';
  } else if (await hasPublicPassword(db, hasher, 'admin')) {
    const admin = await findUserByUsername(db, 'admin');
    await updatePasswordHash(db, admin!.id, await adminHash());
    outcome = 'rotated';
  }
  if (options.demoCustomers === 'lock') {
    const locked = await publicDemoCustomers(db, hasher);
    for (const username of locked) {
      const row = await findUserByUsername(db, username);
      // A random password nobody ever sees: the account keeps its data, no one can log in as it.
      const unknowable = randomBytes(32).toString('base64url');
      await updatePasswordHash(db, row!.id, await hasher.hash(unknowable));
    }
    if (locked.length > 0)
      logger.warn({ locked }, 'demo customers: published password replaced (PROD_DEMO_CUSTOMERS=false)');
  }
  if (outcome !== 'unchanged') logger.warn({ admin: outcome }, 'PROD admin password set from the deploy');
  return outcome;
}
