import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKFLOWS = path.join(ROOT, '.github/workflows');
const DOCS = ['docs/CI-PIPELINE.md', 'docs/CD-PIPELINE.md'];

interface Workflow {
  jobs?: Record<string, { needs?: string | string[]; steps?: Array<{ uses?: string; with?: { name?: string } }> }>;
}

/** `name` as a whole word (job names contain dashes: `ci` is not part of `ci-passed`). */
const word = (name: string) => new RegExp(`(?<![\\w-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`);

/**
 * What the pipeline docs fail to say about the workflows of `workflowsDir`, one line per gap:
 *  - every job is named, in backquotes (`deploy-uat`) or after the word "job" (job ci);
 *  - a job's `needs` are given on one line that names the job, the word "needs" and each job it needs;
 *  - every artefact an actions/upload-artifact step uploads is named in backquotes.
 */
export function undocumented(workflowsDir: string, docs: string): string[] {
  const lines = docs.split('\n');
  const gaps: string[] = [];
  for (const file of readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f))) {
    const workflow = parse(readFileSync(path.join(workflowsDir, file), 'utf8')) as Workflow;
    for (const [job, spec] of Object.entries(workflow.jobs ?? {})) {
      if (!docs.includes(`\`${job}\``) && !new RegExp(`\\bjob ${word(job).source}`).test(docs)) {
        gaps.push(`${file}: job ${job} is not named in the docs`);
      }
      const needs = spec.needs === undefined ? [] : [spec.needs].flat();
      if (needs.length > 0) {
        const said = lines.some(
          (line) => word(job).test(line) && /needs/.test(line) && needs.every((need) => word(need).test(line)),
        );
        if (!said) gaps.push(`${file}: no line names job ${job} with "needs" and ${needs.join(', ')}`);
      }
      for (const step of spec.steps ?? []) {
        const artefact = step.uses?.startsWith('actions/upload-artifact@') ? step.with?.name : undefined;
        if (artefact && !docs.includes(`\`${artefact}\``)) {
          gaps.push(`${file}: job ${job} uploads artefact ${artefact}, which the docs do not name`);
        }
      }
    }
  }
  return gaps;
}

const docsText = () => DOCS.map((doc) => readFileSync(path.join(ROOT, doc), 'utf8')).join('\n');

describe('docs/CI-PIPELINE.md and docs/CD-PIPELINE.md describe the workflows as they are', () => {
  it('name every job of .github/workflows/*.yml, its needs and every artefact it uploads', () => {
    expect(undocumented(WORKFLOWS, docsText())).to.deep.equal([]);
  });

  it('notice a job, a need or an artefact added to a workflow and not documented', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workflows-'));
    try {
      writeFileSync(
        path.join(dir, 'extra.yml'),
        [
          'on: push',
          'jobs:',
          '  tests-passed:',
          '    runs-on: ubuntu-latest',
          '    needs: [ci, e2e, browser, sbom-undocumented]',
          '    steps: [{ run: "true" }]',
          '  sbom-undocumented:',
          '    runs-on: ubuntu-latest',
          '    steps:',
          '      - uses: actions/upload-artifact@043fb46d1a93c77aae656e7c1c64a875d1fc6a0a',
          '        with: { name: sbom-undocumented-artefact, path: sbom.json }',
        ].join('\n'),
      );
      expect(undocumented(dir, docsText())).to.deep.equal([
        'extra.yml: no line names job tests-passed with "needs" and ci, e2e, browser, sbom-undocumented',
        'extra.yml: job sbom-undocumented is not named in the docs',
        'extra.yml: job sbom-undocumented uploads artefact sbom-undocumented-artefact, which the docs do not name',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
