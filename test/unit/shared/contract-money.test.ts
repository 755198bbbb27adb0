import { expect } from 'chai';
import { AppError } from '#shared/errors.js';
import { formatCents, parseAmount, parseTypedAmount } from '#shared/contract/money.js';

describe('money helpers', () => {
  it('parses decimal strings into exact cents', () => {
    expect(parseAmount('12.34')).to.equal(1234);
    expect(parseAmount('12.3')).to.equal(1230);
    expect(parseAmount('12')).to.equal(1200);
    expect(parseAmount(' 0.01 ')).to.equal(1);
    expect(parseAmount('1000000.00')).to.equal(100_000_000);
    // 0.1 + 0.2 style float error cannot happen: digits are read, not multiplied.
    expect(parseAmount('0.29')).to.equal(29);
  });

  for (const bad of [
    '0',
    '0.00',
    '-1',
    '0.001',
    '1e3',
    '1,5',
    'abc',
    '',
    '   ',
    '1000000.01',
    '9'.repeat(400),
    '.5',
    '5.',
    '+5',
    '0x10',
  ]) {
    it(`refuses ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 10)}…` : bad)} with a readable 422`, () => {
      try {
        parseAmount(bad);
        expect.fail('should have thrown');
      } catch (err) {
        expect(err).to.be.instanceOf(AppError);
        expect((err as AppError).status).to.equal(422);
        expect((err as AppError).message).to.match(/montant/i);
      }
    });
  }

  it('refuses non-strings', () => {
    for (const bad of [12, null, undefined, ['1'], { a: 1 }]) expect(() => parseAmount(bad)).to.throw(AppError);
  });

  it('reads what a French user types: a comma or a point, grouped thousands, exactly', () => {
    expect(parseTypedAmount('12,34')).to.equal(1234);
    expect(parseTypedAmount('12.34')).to.equal(1234);
    expect(parseTypedAmount(' 0,29 ')).to.equal(29);
    expect(parseTypedAmount('1,5')).to.equal(150);
    expect(parseTypedAmount('1 000,50')).to.equal(100_050);
    expect(parseTypedAmount('1\u00a0000\u00a0000,00')).to.equal(100_000_000);
    expect(parseTypedAmount('1\u202f234,56')).to.equal(123_456);
    expect(formatCents(parseTypedAmount('12,34'))).to.equal('12.34');
  });

  for (const bad of [
    '12,345',
    '1,2,3',
    '12 34',
    '1 0000',
    ',5',
    '5,',
    '0,00',
    '-1,00',
    '1 000 000,01',
    '1e3',
    'douze',
  ]) {
    it(`refuses the typed ${JSON.stringify(bad)} with a French example`, () => {
      expect(() => parseTypedAmount(bad))
        .to.throw(AppError)
        .with.property('message')
        .that.matches(/[Mm]ontant/);
    });
  }

  it('keeps the wire format strict: the API still refuses a comma', () => {
    expect(() => parseAmount('12,34')).to.throw(AppError, 'par exemple 12.34');
    expect(() => parseTypedAmount('12,345')).to.throw(AppError, 'par exemple 12,34');
  });

  it('formats cents without floats, including negatives and big values', () => {
    expect(formatCents(1234)).to.equal('12.34');
    expect(formatCents(5)).to.equal('0.05');
    expect(formatCents(-5)).to.equal('-0.05');
    expect(formatCents('-123456')).to.equal('-1234.56');
    expect(formatCents(0)).to.equal('0.00');
    expect(formatCents(9_007_199_254_740_993n)).to.equal('90071992547409.93');
  });
});
