import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
// @ts-expect-error: a plain ES module of scripts/ci without type declarations
import { k6SyntaxError } from '../../scripts/ci/k6-syntax.mjs';

const check = k6SyntaxError as (source: string) => string | null;
const k6Dir = fileURLToPath(new URL('../../k6/', import.meta.url));

describe('scripts/ci/k6-syntax.mjs (the grammar k6 v0.51.0 accepts)', function () {
  const rejected: Record<string, string> = {
    'optional catch binding': 'try { f(); } catch { g(); }',
    'nullish coalescing': 'const a = b ?? 1;',
    'optional chaining': 'const a = b?.c;',
    'object spread': 'const a = { ...b };',
    'object rest': 'const { a, ...rest } = b;',
  };
  for (const [construct, source] of Object.entries(rejected)) {
    it(`rejects ${construct}, with its line and column`, function () {
      expect(check(`// k6 script\n${source}\n`)).to.match(/^2:\d+: Unexpected token/);
    });
  }

  it('accepts what k6 0.51 runs: ES modules, async/await, **, array spread, catch with a binding', function () {
    const source = [
      "import http from 'k6/http';",
      'export const options = { vus: 1 };',
      'async function wait() { await Promise.resolve(2 ** 3); }',
      'const all = [...[1, 2]];',
      'try { wait(); } catch (error) { all.push(error); }',
      'export default function () { http.get(`${__ENV.BASE_URL}/health`); }',
    ].join('\n');
    expect(check(source)).to.equal(null);
  });

  it("passes every script of k6/ (what CI's k6 steps run)", function () {
    const scripts = readdirSync(k6Dir).filter((name) => name.endsWith('.js'));
    expect(scripts).to.include.members(['perf-smoke.js', 'perf-load.js']);
    for (const name of scripts) {
      expect(check(readFileSync(`${k6Dir}${name}`, 'utf8')), name).to.equal(null);
    }
  });
});
