// k6 smoke test: one virtual user for 10 seconds against GET /health.
// Run: k6 run --vus 1 --duration 10s --summary-export=k6/k6-summary.json k6/perf-smoke.js
// BASE_URL defaults to the CI stack's gateway (http://localhost:5000).
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE_URL = (__ENV.BASE_URL || 'http://localhost:5000').replace(/\/+$/, '');

export const options = {
  vus: 1,
  duration: '10s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<800'],
  },
};

/**
 * The `status` field of a /health answer, or why its body is not JSON. (No `catch {` without a
 * binding, `??` or `?.` here: k6 0.51 parses ES2017 only, see scripts/ci/k6-syntax.mjs.)
 * @param {import("k6/http").RefinedResponse<"text">} res
 * @returns {unknown}
 */
function healthStatus(res) {
  try {
    return res.json('status');
  } catch (notJson) {
    return `not JSON: ${notJson}`;
  }
}

export default function () {
  const res = http.get(`${BASE_URL}/health`);
  check(res, {
    'GET /health answers 200': (r) => r.status === 200,
    'GET /health says {"status":"ok"}': (r) => healthStatus(r) === 'ok',
  });
  sleep(0.5);
}
