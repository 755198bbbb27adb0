import { expect } from 'chai';
import { AppError } from '#shared/errors.js';
import { formatCents, parseAmount } from '#shared/contract/money.js';

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

  it('formats cents without floats, including negatives and big values', () => {
    expect(formatCents(1234)).to.equal('12.34');
    expect(formatCents(5)).to.equal('0.05');
    expect(formatCents(-5)).to.equal('-0.05');
    expect(formatCents('-123456')).to.equal('-1234.56');
    expect(formatCents(0)).to.equal('0.00');
    expect(formatCents(9_007_199_254_740_993n)).to.equal('90071992547409.93');
  });
});
