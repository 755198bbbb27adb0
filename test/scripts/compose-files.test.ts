import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';

/** What docs/CD-PIPELINE.md §11 promises about the Compose files. */
describe('compose/docker-compose.{ci,uat,prod}.yml', function () {
  for (const stack of ['ci', 'uat', 'prod']) {
    it(`${stack}: has no top-level \`version:\` key (obsolete, Compose v2 warns about it)`, function () {
      const file = new URL(`../../compose/docker-compose.${stack}.yml`, import.meta.url);
      const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(doc).to.have.property('services');
      expect(doc).to.not.have.property('version');
    });
  }
});
