import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { OPENAPI_PATH, renderOpenApi } from '#shared/contract/openapi.js';

describe('internal API description (docs/api/openapi.json)', () => {
  it('is the one the contract’s schemas generate', () => {
    const committed = readFileSync(OPENAPI_PATH, 'utf8');
    if (committed !== renderOpenApi()) {
      expect.fail('docs/api/openapi.json is stale: run npm run openapi');
    }
  });

  it('describes every route of the internal API with its request and its error body', () => {
    const document = JSON.parse(renderOpenApi()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(document.paths)).to.have.members([
      '/api/accounts',
      '/api/accounts/primary',
      '/api/overview',
      '/api/history',
      '/api/transfers',
      '/api/deposits',
      '/api/ledger/journal',
      '/api/ledger/trial-balance',
    ]);
    const transfer = document.paths['/api/transfers']?.post;
    expect(transfer?.requestBody).to.deep.nested.include({
      'content.application/json.schema.required': ['idempotencyKey', 'fromAccount', 'to', 'amount'],
    });
    expect(transfer?.responses['422']).to.deep.nested.include({
      'content.application/json.schema.$ref': '#/components/schemas/Error',
    });
  });
});
