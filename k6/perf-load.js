// k6 load test: the journey of a real user, up to ~40 virtual users.
//
// Each VU registers its own account `user_<VU>` once (first iteration only; on a re-run against the
// same database the form answers "already taken", which is fine), then every iteration:
// GET /health, log in (GET the form, read its `_csrf`, POST form-encoded), GET /dashboard, sleep 1 s.
// Cookies (the session) are kept by k6's per-VU cookie jar; the jar is emptied at the start of each
// iteration so that every iteration performs a real login instead of reusing the previous session.
//
// Run: k6 run --summary-export=k6/k6-summary-load.json -e BASE_URL=http://localhost:5000 k6/perf-load.js
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Rate } from 'k6/metrics';

const BASE_URL = (__ENV.BASE_URL || 'http://localhost:5000').replace(/\/+$/, '');
const PASSWORD = 'Test123!';

// Business error rate: a step that did not do what a user expects (no form, login refused, a dashboard
// that does not show the user's own name) counts as one error.
export const errors = new Rate('errors');

export const options = {
  stages: [
    { duration: '20s', target: 20 },
    { duration: '20s', target: 40 },
    { duration: '60s', target: 40 },
    { duration: '15s', target: 0 },
  ],
  thresholds: {
    http_req_duration: ['p(95)<800'],
    http_req_failed: ['rate<0.10'],
    errors: ['rate<0.20'],
  },
};

// The register form answers 409/422 when the username is taken: expected on a re-run, not a failure.
const REGISTER_ANSWERS = http.expectedStatuses({ min: 200, max: 399 }, 409, 422);

let registered = false; // module state is per VU: each VU runs its own copy of this script

/**
 * Reads the hidden CSRF token out of an HTML form.
 * @param {string} html
 * @returns {string | null}
 */
export function csrfToken(html) {
  const tag = /<input\b[^>]*\bname="_csrf"[^>]*>/i.exec(html);
  if (!tag) return null;
  const value = /\bvalue="([^"]*)"/i.exec(tag[0]);
  return value && value[1] ? value[1] : null;
}

/**
 * @param {import("k6/http").RefinedResponse<"text">} res
 * @returns {string}
 */
function bodyOf(res) {
  return typeof res.body === 'string' ? res.body : '';
}

/**
 * GETs a form page and returns its CSRF token (null, and one business error, when there is none).
 * @param {string} path
 * @returns {string | null}
 */
function formToken(path) {
  const page = http.get(`${BASE_URL}${path}`, {
    tags: { name: `GET ${path}` },
  });
  const token = csrfToken(bodyOf(page));
  const ok = check(page, {
    [`GET ${path} answers 200`]: (r) => r.status === 200,
    [`GET ${path} has a _csrf field`]: () => token !== null,
  });
  errors.add(!ok);
  return token;
}

/** @param {string} username */
function register(username) {
  const token = formToken('/register');
  if (token === null) return;
  const res = http.post(
    `${BASE_URL}/register`,
    { username, password: PASSWORD, _csrf: token },
    { tags: { name: 'POST /register' }, responseCallback: REGISTER_ANSWERS },
  );
  const body = bodyOf(res);
  const ok = check(res, {
    'register succeeds or the user already exists': (r) =>
      (r.status === 200 && r.url.endsWith('/login')) ||
      ((r.status === 200 || r.status === 409 || r.status === 422) && body.includes(username)),
  });
  errors.add(!ok);
}

/** @param {string} username */
function login(username) {
  const token = formToken('/login');
  if (token === null) return false;
  const res = http.post(
    `${BASE_URL}/login`,
    { username, password: PASSWORD, _csrf: token },
    { tags: { name: 'POST /login' } },
  );
  const ok = check(res, {
    'login lands on /dashboard': (r) => r.status === 200 && r.url.endsWith('/dashboard'),
  });
  errors.add(!ok);
  return ok;
}

export default function () {
  const username = `user_${__VU}`;
  http.cookieJar().clear(BASE_URL);

  const health = http.get(`${BASE_URL}/health`, {
    tags: { name: 'GET /health' },
  });
  errors.add(!check(health, { 'GET /health answers 200': (r) => r.status === 200 }));

  if (!registered) {
    register(username);
    registered = true;
  }

  if (login(username)) {
    const dashboard = http.get(`${BASE_URL}/dashboard`, {
      tags: { name: 'GET /dashboard' },
    });
    const ok = check(dashboard, {
      'GET /dashboard answers 200': (r) => r.status === 200,
      "the dashboard shows the user's own name": (r) => bodyOf(r).includes(username),
    });
    errors.add(!ok);
  }

  sleep(1);
}
