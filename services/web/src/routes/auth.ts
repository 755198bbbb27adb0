import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { recordAudit } from '#shared/audit.js';
import type { Logger } from '#shared/logger.js';
import { typedUsernameDigest } from '../auth/log-safe.js';
import type { LoginGuard } from '../auth/login-guard.js';
import { PASSWORD_MAX_LENGTH, type PasswordHasher } from '../auth/passwords.js';
import { findUserByUsername, toUser, updatePasswordHash, type UserRow } from '../auth/users.js';
import { readForm } from '../forms.js';
import type { Render } from '../render.js';
import type { TransactionsClient } from '../transactions-client.js';
import { waitText } from '../write-limits.js';

export interface AuthDeps {
  db: Knex;
  logger: Logger;
  hasher: PasswordHasher;
  guard: LoginGuard;
  render: Render;
  transactions: TransactionsClient;
  /** Keys the digest of a typed username in the logs (auth/log-safe.ts). */
  secretKey: string;
}

const GENERIC_LOGIN_ERROR = 'Identifiant ou mot de passe incorrect.';

/** The same words whether or not the user exists; the wait is the one in Retry-After. */
function tooManyAttempts(retryAfterS: number): string {
  return `Trop de tentatives de connexion. Réessayez dans ${waitText(retryAfterS)}.`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** /, login and logout. */
export function authRoutes({ db, logger, hasher, guard, render, transactions, secretKey }: AuthDeps): Router {
  const loginPage = (ctx: Koa.Context, username: string, error: string | null, status = 200) =>
    render(ctx, 'login.html', { title: 'Connexion', page: 'login', form: { username }, error }, status);

  function home(ctx: Koa.Context) {
    ctx.redirect(ctx.state.user ? '/dashboard' : '/login');
  }

  function showLogin(ctx: Koa.Context) {
    if (ctx.state.user) {
      ctx.redirect('/dashboard');
      return;
    }
    if (ctx.query.logged_out === '1') {
      render(ctx, 'login.html', {
        title: 'Connexion',
        page: 'login',
        form: { username: '' },
        error: null,
        flash: [{ type: 'success', message: 'Vous êtes déconnecté.' }],
      });
      return;
    }
    loginPage(ctx, '', null);
  }

  async function logIn(ctx: Koa.Context) {
    const form = readForm(ctx.request.body, { username: { max: 64 }, password: { max: PASSWORD_MAX_LENGTH } });
    const username = form.username.trim();
    // The attempt is counted before the password is checked (see auth/login-guard.ts).
    const attempt = await guard.admit(username, ctx.ip);
    const usernameDigest = typedUsernameDigest(secretKey, username);
    if (attempt.blocked) {
      await recordAudit(db, {
        event: 'login.throttled',
        outcome: 'rate_limited',
        details: { usernameDigest, retryAfterS: attempt.retryAfterS },
      });
      loginPage(ctx, username, tooManyAttempts(attempt.retryAfterS), 429);
      ctx.set('Retry-After', String(attempt.retryAfterS));
      return;
    }
    let row: UserRow | undefined;
    let ok: boolean;
    try {
      // A username under attack from many addresses is slowed down, never locked.
      if (attempt.delayMs > 0) await sleep(attempt.delayMs);
      row = username ? await findUserByUsername(db, username) : undefined;
      // Verify against a dummy hash for unknown users: same work, same answer, no user enumeration.
      ok = await hasher.verify(row?.password_hash ?? (await hasher.dummyHash), form.password);
    } catch (err) {
      await attempt.settle('unchecked');
      throw err;
    }
    if (!row || !ok || form.password === '') {
      await attempt.settle('failed');
      // The name is kept only when it is a user's: a password typed as a name never is.
      await recordAudit(db, {
        event: 'login.failed',
        outcome: 'failed',
        actorId: row ? Number(row.id) : null,
        actor: row?.username ?? null,
        details: { usernameDigest },
      });
      logger.info({ usernameDigest }, 'login failed');
      loginPage(ctx, username, GENERIC_LOGIN_ERROR, 401);
      return;
    }
    await attempt.settle('succeeded');
    if (hasher.needsRehash(row.password_hash)) {
      await updatePasswordHash(db, row.id, await hasher.hash(form.password));
      logger.info({ userId: row.id }, 'password re-hashed with current parameters');
    }
    // A registration interrupted between its two steps left no account: open it now (idempotent).
    await transactions.openPrimaryAccount(Number(row.id)).catch((err: unknown) => {
      logger.warn({ userId: row.id, err: (err as Error).message }, 'primary account check failed at login');
    });
    const session = ctx.session;
    if (!session) throw new Error('session middleware missing');
    // New session id at login (no fixation) and a fresh CSRF token.
    delete session.csrf;
    session.userId = Number(row.id);
    session.loggedInAt = Date.now();
    // What the per-session write limits count by (write-limits.ts).
    session.limitKey = randomUUID();
    await session.regenerate();
    ctx.state.user = toUser(row);
    await recordAudit(db, {
      event: 'login.succeeded',
      outcome: 'succeeded',
      actorId: Number(row.id),
      actor: row.username,
    });
    logger.info({ userId: row.id }, 'login succeeded');
    ctx.redirect('/dashboard');
  }

  function confirmLogout(ctx: Koa.Context) {
    if (!ctx.state.user) {
      ctx.redirect('/login');
      return;
    }
    render(ctx, 'logout.html', { title: 'Déconnexion', page: 'logout' });
  }

  async function logOut(ctx: Koa.Context) {
    const user = ctx.state.user as { id: number; username: string } | undefined;
    if (user) await recordAudit(db, { event: 'logout', outcome: 'succeeded', actorId: user.id, actor: user.username });
    // Deletes the session row: the old cookie no longer reaches any page.
    ctx.session = null;
    ctx.redirect('/login?logged_out=1');
  }

  return new Router()
    .get('/', home)
    .get('/login', showLogin)
    .post('/login', logIn)
    .get('/logout', confirmLogout)
    .post('/logout', logOut);
}
