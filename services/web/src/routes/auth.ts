import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';

import type { Logger } from '../../../shared/src/logger.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type PasswordHasher } from '../../../shared/src/passwords.js';
import {
  createUser,
  findUserByUsername,
  toUser,
  updatePasswordHash,
  USERNAME_PATTERN,
} from '../../../shared/src/users.js';
import { readForm } from '../forms.js';
import type { LoginThrottle } from '../login-throttle.js';
import { addFlash, type Render } from '../render.js';

export interface AuthDeps {
  db: Knex;
  logger: Logger;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  render: Render;
}

const GENERIC_LOGIN_ERROR = 'Identifiant ou mot de passe incorrect.';
const TOO_MANY = 'Trop de tentatives de connexion échouées. Réessayez dans quelques minutes.';

/** Login, logout and registration. */
export function authRoutes({ db, logger, hasher, throttle, render }: AuthDeps): Router {
  const router = new Router();

  const loginPage = (ctx: Koa.Context, username: string, error: string | null, status = 200) =>
    render(ctx, 'login.html', { title: 'Connexion', page: 'login', form: { username }, error }, status);

  router.get('/login', (ctx) => {
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
  });

  router.post('/login', async (ctx) => {
    const form = readForm(ctx.request.body, { username: { max: 64 }, password: { max: PASSWORD_MAX_LENGTH } });
    const username = form.username.trim();
    if (throttle.isBlocked(username, ctx.ip)) {
      loginPage(ctx, username, TOO_MANY, 429);
      ctx.set('Retry-After', '60');
      return;
    }
    const row = username ? await findUserByUsername(db, username) : undefined;
    // Verify against a dummy hash for unknown users: same work, same answer, no user enumeration.
    const ok = await hasher.verify(row?.password_hash ?? (await hasher.dummyHash), form.password);
    if (!row || !ok || form.password === '') {
      throttle.recordFailure(username, ctx.ip);
      logger.info({ username: username.slice(0, 64) }, 'login failed');
      loginPage(ctx, username, GENERIC_LOGIN_ERROR, 401);
      return;
    }
    throttle.recordSuccess(username);
    if (hasher.needsRehash(row.password_hash)) {
      await updatePasswordHash(db, row.id, await hasher.hash(form.password));
      logger.info({ userId: row.id }, 'password re-hashed with current parameters');
    }
    const session = ctx.session;
    if (!session) throw new Error('session middleware missing');
    // New session id at login (no fixation) and a fresh CSRF token.
    delete session.csrf;
    session.userId = Number(row.id);
    session.loggedInAt = Date.now();
    await session.regenerate();
    ctx.state.user = toUser(row);
    logger.info({ userId: row.id }, 'login succeeded');
    ctx.redirect('/dashboard');
  });

  router.get('/logout', (ctx) => {
    if (!ctx.state.user) {
      ctx.redirect('/login');
      return;
    }
    render(ctx, 'logout.html', { title: 'Déconnexion', page: 'logout' });
  });

  router.post('/logout', (ctx) => {
    // Deletes the session row: the old cookie no longer reaches any page.
    ctx.session = null;
    ctx.redirect('/login?logged_out=1');
  });

  const registerPage = (ctx: Koa.Context, username: string, errors: string[], status = 200) =>
    render(ctx, 'register.html', { title: 'Inscription', page: 'register', form: { username }, errors }, status);

  router.get('/register', (ctx) => registerPage(ctx, '', []));

  router.post('/register', async (ctx) => {
    const form = readForm(ctx.request.body, { username: { max: 64 }, password: { max: PASSWORD_MAX_LENGTH } });
    const username = form.username.trim();
    const errors: string[] = [];
    if (!USERNAME_PATTERN.test(username)) {
      errors.push('Nom d’utilisateur invalide : 3 à 32 caractères parmi lettres, chiffres, « _ », « . » et « - ».');
    }
    if (form.password.length < PASSWORD_MIN_LENGTH) {
      errors.push(`Le mot de passe doit contenir au moins ${PASSWORD_MIN_LENGTH} caractères.`);
    }
    if (errors.length) {
      registerPage(ctx, username, errors, 422);
      return;
    }
    const passwordHash = await hasher.hash(form.password);
    const user = await db.transaction((trx) => createUser(trx, { username, passwordHash }));
    if (!user) {
      registerPage(ctx, username, ['Ce nom d’utilisateur est déjà pris.'], 409);
      return;
    }
    logger.info({ userId: user.id }, 'user registered');
    addFlash(ctx, 'success', 'Compte créé. Vous pouvez maintenant vous connecter.');
    ctx.redirect('/login');
  });

  return router;
}
