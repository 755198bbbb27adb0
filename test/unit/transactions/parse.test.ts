import { expect } from 'chai';
import type Koa from 'koa';
import { z } from 'zod';
import { HistoryQuery, OpenAccountRequest, TransferRequest } from '#shared/contract/api.js';
import { AppError } from '#shared/errors.js';
import { parseBody, parseQuery } from '#transactions/routes/parse.js';

const withBody = (body: unknown) => ({ request: { body }, query: {} }) as unknown as Koa.Context;
const withQuery = (query: Record<string, string | string[]>) => ({ request: {}, query }) as unknown as Koa.Context;

function refusal(parse: () => unknown): { status: number; code: string; message: string } {
  try {
    parse();
  } catch (err) {
    if (err instanceof AppError) return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('the input was accepted');
}

const transfer = { idempotencyKey: 'key-12345678', fromAccount: 'FT1234567890', to: 'bob', amount: '12.50' };

describe('request parsing with the contract’s schemas (routes/parse.ts)', () => {
  it('returns the parsed body: account number normalized, amount in cents, blank label dropped', () => {
    const body = parseBody(
      withBody({ ...transfer, fromAccount: 'ft 1234-567.890', to: ' bob ', label: '  ' }),
      TransferRequest,
    );
    expect(body).to.deep.equal({ ...transfer, to: 'bob', amount: 1250, label: undefined });
  });

  it('answers unknown fields first, naming them', () => {
    expect(refusal(() => parseBody(withBody({ ...transfer, amount: 10, userId: 2 }), TransferRequest))).to.deep.equal({
      status: 400,
      code: 'unknown_field',
      message: 'Champ non reconnu : userId.',
    });
  });

  it('answers each field’s problem with its status, code and French message', () => {
    const cases: Array<[unknown, number, string, string | RegExp]> = [
      [[transfer], 400, 'invalid_body', 'Le corps de la requête doit être un objet JSON.'],
      [{ ...transfer, fromAccount: null }, 400, 'missing_field', 'Choisissez le compte à débiter.'],
      [
        { ...transfer, fromAccount: 7 },
        400,
        'invalid_field',
        'Le champ fromAccount doit être une chaîne de caractères.',
      ],
      [{ ...transfer, fromAccount: 'FT12' }, 404, 'unknown_account', /format attendu : FT suivi de 10 chiffres/],
      [{ ...transfer, to: 'x'.repeat(65) }, 404, 'unknown_recipient', 'Destinataire inconnu.'],
      [{ ...transfer, amount: undefined }, 422, 'invalid_amount', 'Le montant est obligatoire (par exemple 12.34).'],
      [{ ...transfer, amount: '12,50' }, 422, 'invalid_amount', /utilisez des chiffres avec un point/],
      [{ ...transfer, amount: '1000000.01' }, 422, 'amount_too_large', /1 000 000,00/],
      [{ ...transfer, label: 'x'.repeat(141) }, 422, 'invalid_label', 'Le libellé doit faire au plus 140 caractères.'],
      [{ ...transfer, label: 'Loyer \u202Emars' }, 422, 'invalid_label', /\(U\+202E\)/],
    ];
    for (const [body, status, code, message] of cases) {
      const answer = refusal(() => parseBody(withBody(body), TransferRequest));
      expect(answer, JSON.stringify(body)).to.include({ status, code });
      if (typeof message === 'string') expect(answer.message, JSON.stringify(body)).to.equal(message);
      else expect(answer.message, JSON.stringify(body)).to.match(message);
    }
  });

  it('answers a currency that is missing, not a string or not offered with 422 invalid_currency', () => {
    for (const currency of [undefined, 5, 'GBP']) {
      expect(
        refusal(() => parseBody(withBody({ idempotencyKey: 'key-12345678', currency }), OpenAccountRequest)),
      ).to.have.property('code', 'invalid_currency');
    }
  });

  it('answers an unknown, repeated or out-of-range query parameter with 400 invalid_query', () => {
    expect(refusal(() => parseQuery(withQuery({ sort: 'id' }), HistoryQuery)).message).to.equal(
      'Paramètre non reconnu : sort.',
    );
    expect(refusal(() => parseQuery(withQuery({ page: ['1', '2'] }), HistoryQuery)).message).to.equal(
      'Le paramètre page ne peut apparaître qu’une fois.',
    );
    expect(refusal(() => parseQuery(withQuery({ pageSize: '101' }), HistoryQuery))).to.deep.equal({
      status: 400,
      code: 'invalid_query',
      message: 'Le paramètre pageSize doit être un entier entre 1 et 100.',
    });
    expect(parseQuery(withQuery({ account: '' }), HistoryQuery)).to.deep.equal({
      account: undefined,
      page: 1,
      pageSize: 20,
    });
  });

  it('gives a field the contract registered no answer for the generic French ones', () => {
    // A new field added to a schema without its own message still gets a clear 400, never a 500.
    const Note = z.strictObject({ note: z.string() });
    expect(refusal(() => parseBody(withBody({}), Note))).to.deep.equal({
      status: 400,
      code: 'missing_field',
      message: 'Le champ note est obligatoire.',
    });
    expect(refusal(() => parseBody(withBody({ note: 3 }), Note))).to.deep.equal({
      status: 400,
      code: 'invalid_field',
      message: 'Le champ note doit être une chaîne de caractères.',
    });
  });

  it('refuses to answer a contract check that carries no refusal: a programming error, not the client’s', () => {
    const Unanswered = z.strictObject({ note: z.string().refine((v) => v !== 'x') });
    expect(() => parseBody(withBody({ note: 'x' }), Unanswered)).to.throw(
      Error,
      /contract check without a refusal at note/,
    );
    expect(() => parseBody(withBody({ note: 'x' }), Unanswered)).not.to.throw(AppError);
  });
});
