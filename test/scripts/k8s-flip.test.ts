/**
 * scripts/k8s-flip.sh, checked without a cluster (it has not been run against one): bad input is
 * refused before kubectl is called; what the flip sends — the JSON merge patch of
 * scripts/lib/k8s_flip.sh — applied (RFC 7386, as the API server applies `kubectl patch
 * --type=merge`) to the rendered Service `web` changes the selected colour and nothing else, and
 * the patch back restores the Service exactly; and the script's judgements of readiness and of the
 * Service's endpoints.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { renderKustomization, type K8sObject } from '../helpers/kustomize-lite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FLIP = path.join(root, 'scripts/k8s-flip.sh');
const LIB = path.join(root, 'scripts/lib/k8s_flip.sh');

/** Runs a function of scripts/lib/k8s_flip.sh with `args`, `input` on stdin. */
function lib(fn: string, args: string[], input = ''): { code: number | null; stdout: string } {
  const result = spawnSync('bash', ['-c', `source "$0"; ${fn} "$@"`, LIB, ...args], { input, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout };
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

/** Paths whose value differs between two JSON documents. */
function changedPaths(a: Json, b: Json, at = ''): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedPaths(a[k], b[k], `${at}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at.slice(1)];
}

describe('scripts/k8s-flip.sh (Kubernetes blue/green flip)', () => {
  describe('bad input: exit 2 with the usage, kubectl never called', () => {
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      ['no colour', [], {}, /expected one colour, got 0 argument/],
      ['an unknown colour', ['red'], {}, /unknown colour 'red' \(expected blue or green\)/],
      ['two colours', ['blue', 'green'], {}, /expected one colour, got 2 argument/],
      [
        'a timeout that is not a number',
        ['green'],
        { ROLLOUT_TIMEOUT: '2m' },
        /ROLLOUT_TIMEOUT must be a whole number/,
      ],
      ['an invalid namespace', ['green'], { NAMESPACE: 'Bank_Prod' }, /NAMESPACE 'Bank_Prod' is not a valid/],
      ['a VERIFY_URL without scheme', ['green'], { VERIFY_URL: 'bank.example' }, /VERIFY_URL must start with http/],
    ];
    for (const [label, args, env, message] of cases) {
      it(`refuses ${label}`, () => {
        // A kubectl that records being called: bad input must be refused before any call.
        const bin = mkdtempSync(path.join(tmpdir(), 'k8s-flip-'));
        const calls = path.join(bin, 'calls');
        writeFileSync(path.join(bin, 'kubectl'), `#!/bin/sh\necho "$*" >> '${calls}'\nexit 1\n`);
        chmodSync(path.join(bin, 'kubectl'), 0o755);
        try {
          const result = spawnSync('bash', [FLIP, ...args], {
            env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
            encoding: 'utf8',
          });
          expect(result.status).to.equal(2);
          const [first, usage] = result.stderr.split('\n');
          expect(first).to.match(message);
          expect(usage).to.equal('usage: scripts/k8s-flip.sh blue|green');
          expect(existsSync(calls), 'kubectl was called').to.equal(false);
        } finally {
          rmSync(bin, { recursive: true, force: true });
        }
      });
    }
  });

  describe('what a flip changes', () => {
    const web = renderKustomization(path.join(root, 'deploy/k8s/overlays/prod')).find(
      (o) => o.kind === 'Service' && o.metadata.name === 'web',
    ) as K8sObject;
    const patch = (colour: string) => {
      const { code, stdout } = lib('k8s_flip_patch', [colour]);
      expect(code, `patch for ${colour}`).to.equal(0);
      return JSON.parse(stdout) as Json;
    };

    it('changes only the colour the Service web selects, and the patch back restores it exactly', () => {
      expect((web as unknown as { spec: { selector: object } }).spec.selector).to.deep.include({ color: 'blue' });
      const flipped = mergePatch(web, patch('green'));
      expect(changedPaths(web, flipped)).to.deep.equal(['spec.selector.color']);
      expect((flipped as { spec: { selector: object } }).spec.selector).to.deep.equal({
        'app.kubernetes.io/name': 'web',
        color: 'green',
      });
      expect(mergePatch(flipped, patch('blue'))).to.deep.equal(web);
      expect(mergePatch(web, patch('blue')), 'flipping to the colour it selects changes nothing').to.deep.equal(web);
    });

    it('has no patch for a colour that does not exist', () => {
      expect(lib('k8s_flip_patch', ['red']).code).to.equal(1);
      expect(lib('k8s_flip_patch', ['']).code).to.equal(1);
    });
  });

  describe('its judgements', () => {
    it('flips only to a Deployment whose every desired replica is ready', () => {
      const ready = (desired: string, readyReplicas: string) => lib('k8s_flip_ready', [desired, readyReplicas]).code;
      expect({
        '2 of 2': ready('2', '2'),
        '1 of 2': ready('2', '1'),
        '0 of 0 (scaled to zero)': ready('0', '0'),
        'none reported (kubectl prints nothing for 0)': ready('2', ''),
      }).to.deep.equal({
        '2 of 2': 0,
        '1 of 2': 1,
        '0 of 0 (scaled to zero)': 1,
        'none reported (kubectl prints nothing for 0)': 1,
      });
    });

    it('takes the flip as done only when every ready endpoint of the Service is a pod of the new colour', () => {
      const serves = (colour: string, lines: string) => lib('k8s_flip_endpoints_serve', [colour], lines).code;
      expect({
        'green pods only': serves('green', 'web-green-7d9f-abcde true\nweb-green-7d9f-fghij true\n'),
        'a blue pod still ready': serves('green', 'web-green-7d9f-abcde true\nweb-blue-5c4b-klmno true\n'),
        'a blue pod terminating (not ready)': serves('green', 'web-green-7d9f-abcde true\nweb-blue-5c4b-klmno false\n'),
        'no ready endpoint': serves('green', 'web-green-7d9f-abcde false\n'),
        'no endpoint at all': serves('green', ''),
      }).to.deep.equal({
        'green pods only': 0,
        'a blue pod still ready': 1,
        'a blue pod terminating (not ready)': 0,
        'no ready endpoint': 1,
        'no endpoint at all': 1,
      });
    });
  });
});
