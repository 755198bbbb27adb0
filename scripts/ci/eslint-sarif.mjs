// Converts ESLint's `json-with-metadata` output into SARIF 2.1.0 for GitHub code scanning.
// Usage: node scripts/ci/eslint-sarif.mjs reports/eslint.json reports/eslint-security.sarif
// Written here rather than taken from a formatter package: about fifty lines, no new dependency.
import { readFile, writeFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/ci/eslint-sarif.mjs ESLINT_JSON OUTPUT_SARIF');
  process.exit(2);
}

const { results, metadata } = JSON.parse(await readFile(input, 'utf8'));
const rulesMeta = metadata?.rulesMeta ?? {};
const toUri = (file) => relative(process.cwd(), file).split(sep).join('/');

const ruleIds = new Set();
const sarifResults = [];
for (const file of results) {
  for (const m of file.messages) {
    const ruleId = m.ruleId ?? 'eslint/parse-error';
    ruleIds.add(ruleId);
    const region = { startLine: m.line ?? 1, startColumn: m.column ?? 1 };
    if (m.endLine) region.endLine = m.endLine;
    if (m.endColumn) region.endColumn = m.endColumn;
    sarifResults.push({
      ruleId,
      level: m.severity === 2 ? 'error' : 'warning',
      message: { text: m.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: {
              uri: toUri(file.filePath),
              uriBaseId: '%SRCROOT%',
            },
            region,
          },
        },
      ],
    });
  }
}

const rules = [...ruleIds].sort().map((id) => {
  const docs = rulesMeta[id]?.docs ?? {};
  const rule = { id, shortDescription: { text: docs.description ?? id } };
  if (docs.url) rule.helpUri = docs.url;
  return rule;
});

const sarif = {
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  version: '2.1.0',
  runs: [
    {
      tool: {
        driver: {
          name: 'ESLint',
          informationUri: 'https://eslint.org',
          rules,
        },
      },
      results: sarifResults,
    },
  ],
};
await writeFile(output, `${JSON.stringify(sarif, null, 2)}\n`);
const security = sarifResults.filter((r) => r.ruleId.startsWith('security/')).length;
console.log(
  `sast: ${results.length} file(s) analysed, ${sarifResults.length} finding(s) (${security} from security/* rules)`,
);
