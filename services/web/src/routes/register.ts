import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { recordAudit } from '#shared/audit.js';
import type { Logger } from '#shared/logger.js';
import { usernameRuleBroken } from '#shared/contract/usernames.js';
import { passwordProblems } from '../auth/password-policy.js';
import { PASSWORD_MAX_LENGTH, type PasswordHasher } from '../auth/passwords.js';
import { registerUser } from '../auth/registration.js';
import { USERNAME_PATTERN } from '../auth/users.js';
import { readForm } from '../forms.js';
import { addFlash, type Render } from '../render.js';
import type { TransactionsClient } from '../transactions-client.js';
import { waitText, type WriteLimits } from '../write-limits.js';

export interface RegisterDeps {
  db: Knex;
  logger: Logger;
  hasher: PasswordHasher;
  render: Render;
  transactions: TransactionsClient;
  limits: WriteLimits;
}

/** GET /register and POST /register (the user here, their primary account by the transactions service). */
export function registerRoutes({ db, logger, hasher, render, transactions, limits }: RegisterDeps): Router {
  const registerPage = (ctx: Koa.Context, username: string, errors: string[], status = 200) =>
    render(ctx, 'register.html', { title: 'Inscription', page: 'register', form: { username }, errors }, status);

  function showRegister(ctx: Koa.Context) {
    registerPage(ctx, '', []);
  }

  async function register(ctx: Koa.Context) {
    const form = readForm(ctx.request.body, { username: { max: 64 }, password: { max: PASSWORD_MAX_LENGTH } });
    const username = form.username.trim();
    // Counted before anything else, the password hash included: a flood costs one statement each.
    const verdict = await limits.registration(ctx.ip);
    if (!verdict.allowed) {
      await recordAudit(db, { event: 'registration', outcome: 'rate_limited' });
      ctx.set('Retry-After', String(verdict.retryAfterS));
      registerPage(
        ctx,
        username,
        [`Trop d’inscriptions depuis votre adresse. Réessayez dans ${waitText(verdict.retryAfterS)}.`],
        429,
      );
      return;
    }
    const errors: string[] = [];
    if (!USERNAME_PATTERN.test(username)) {
      errors.push('Nom d’utilisateur invalide : 3 à 32 caractères parmi lettres, chiffres, « _ », « . » et « - ».');
    }
    const broken = usernameRuleBroken(username);
    if (broken === 'account_number_shape') {
      errors.push(
        'Ce nom d’utilisateur ressemble à un numéro de compte (FT suivi de chiffres) : choisissez-en un autre.',
      );
    } else if (broken === 'reserved') {
      errors.push('Ce nom d’utilisateur est réservé à la banque : choisissez-en un autre.');
    }
    errors.push(...passwordProblems(form.password, username));
    if (errors.length) {
      await recordAudit(db, { event: 'registration', outcome: 'invalid' });
      registerPage(ctx, username, errors, 422);
      return;
    }
    const passwordHash = await hasher.hash(form.password);
    const result = await registerUser(db, transactions, logger, { username, passwordHash });
    if (result.outcome === 'taken') {
      registerPage(ctx, username, ['Ce nom d’utilisateur est déjà pris.'], 409);
      return;
    }
    logger.info({ userId: result.user.id }, 'user registered');
    addFlash(ctx, 'success', 'Compte créé. Vous pouvez maintenant vous connecter.');
    ctx.redirect('/login');
  }

  return new Router().get('/register', showRegister).post('/register', register);
}
