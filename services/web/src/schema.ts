import { SHARED_MIGRATIONS } from '#shared/migrations/index.js';
import { mergeMigrations, type MigrationList } from '#shared/migrations/runner.js';
import * as loginThrottle from './migrations/20261202000110_login_throttle.js';
import * as usernameReviews from './migrations/20261205000100_username_reviews.js';
import * as rateLimits from './migrations/20261205000200_rate_limits.js';

/**
 * The schema the web service needs: the shared tables, then its own migrations (logins,
 * sessions). The migrate job applies this list; the service only checks that it has been applied.
 */
export const WEB_MIGRATIONS: MigrationList = mergeMigrations(SHARED_MIGRATIONS, [
  ['20261202000110_login_throttle', loginThrottle],
  ['20261205000100_username_reviews', usernameReviews],
  ['20261205000200_rate_limits', rateLimits],
]);
