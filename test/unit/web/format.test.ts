import { expect } from 'chai';
import nunjucks from 'nunjucks';
import { addFormatFilters, frenchFormat, frenchTypography } from '../../../services/web/src/format.js';

const NNBSP = '\u202f'; // Intl's group separator in French
const NBSP = '\u00a0'; // before the currency sign, and French punctuation

describe('French formatting (web)', () => {
  const fr = frenchFormat();

  describe('money', () => {
    it('groups thousands and uses a decimal comma and the currency sign', () => {
      expect(fr.money('1000.00', 'EUR')).to.equal(`1${NNBSP}000,00${NBSP}€`);
      expect(fr.money('1234567.8', 'EUR')).to.equal(`1${NNBSP}234${NNBSP}567,80${NBSP}€`);
      expect(fr.money('12.34', 'USD')).to.equal(`12,34${NBSP}$US`);
      expect(fr.money('0', 'EUR')).to.equal(`0,00${NBSP}€`);
      expect(fr.money('-0.05', 'EUR')).to.equal(`-0,05${NBSP}€`);
    });

    it('stays exact beyond what a float holds (no amount goes through a number)', () => {
      // 2^53 + 1 cents: through a double this would print ...409,94.
      expect(fr.money('90071992547409.93', 'EUR')).to.equal(
        `90${NNBSP}071${NNBSP}992${NNBSP}547${NNBSP}409,93${NBSP}€`,
      );
      expect(fr.money('0.10', 'EUR')).to.equal(`0,10${NBSP}€`);
    });

    it('shows the sign of a movement, and none on zero', () => {
      expect(fr.signedMoney('12.34', 'EUR')).to.equal(`+12,34${NBSP}€`);
      expect(fr.signedMoney('-12.34', 'EUR')).to.equal(`-12,34${NBSP}€`);
      expect(fr.signedMoney('0.00', 'EUR')).to.equal(`0,00${NBSP}€`);
    });

    it('shows a dash for an unknown amount and refuses what is not a decimal string', () => {
      expect(fr.money(null, 'EUR')).to.equal('—');
      expect(fr.money(undefined, 'EUR')).to.equal('—');
      for (const bad of [12.34, '12,34', '1e3', '12.345', ' 12', '']) {
        expect(() => fr.money(bad, 'EUR'), String(bad)).to.throw(TypeError);
      }
    });

    it('gives zero its own tone: neither green nor red', () => {
      expect(fr.moneyTone('0.00')).to.equal('zero');
      expect(fr.moneyTone('-0.00')).to.equal('zero');
      expect(fr.moneyTone('0')).to.equal('zero');
      expect(fr.moneyTone('0.01')).to.equal('pos');
      expect(fr.moneyTone('100')).to.equal('pos');
      expect(fr.moneyTone('-3.10')).to.equal('neg');
    });
  });

  describe('dates', () => {
    it('shows Paris time with its offset, summer and winter', () => {
      expect(fr.dateTime('2026-07-14T08:30:00.000Z')).to.equal(`14/07/2026 10:30${NBSP}UTC+2`);
      expect(fr.dateTime('2026-01-05T23:15:00Z')).to.equal(`06/01/2026 00:15${NBSP}UTC+1`);
    });

    it('takes the zone as a parameter', () => {
      expect(frenchFormat('UTC').dateTime('2026-07-14T08:30:00Z')).to.match(/^14\/07\/2026 08:30\u00a0UTC/);
      expect(frenchFormat('America/Montreal').dateTime('2026-07-14T08:30:00Z')).to.equal(
        `14/07/2026 04:30${NBSP}UTC\u22124`,
      );
    });

    it('shows a dash for no date and refuses a date it cannot read', () => {
      expect(fr.dateTime(null)).to.equal('—');
      expect(() => fr.dateTime('yesterday')).to.throw(TypeError);
    });
  });

  describe('typography', () => {
    it('puts no-break spaces before : ; ! ? and inside « », and curly apostrophes', () => {
      expect(frenchTypography("Nom d'utilisateur invalide : « _ » ou « - » ; encore ? oui !")).to.equal(
        `Nom d’utilisateur invalide${NBSP}: «${NBSP}_${NBSP}» ou «${NBSP}-${NBSP}»${NBSP}; encore${NBSP}? oui${NBSP}!`,
      );
    });

    it('leaves times, URLs and already correct text alone', () => {
      const text = `À 14:05, voir https://exemple.fr/a?b=c — déjà bon${NBSP}: «${NBSP}x${NBSP}»`;
      expect(frenchTypography(text)).to.equal(text);
    });
  });

  it('registers the filters the templates use', () => {
    const env = new nunjucks.Environment(null, { autoescape: true });
    addFormatFilters(env, 'Europe/Paris');
    const out = env.renderString(
      '{{ a | money("EUR") }}|{{ a | signedMoney("USD") }}|{{ a | moneyTone }}|{{ d | dateTime }}|{{ m | frenchTypography }}',
      { a: '1500.5', d: '2026-07-14T08:30:00Z', m: 'Solde : <b>' },
    );
    expect(out).to.equal(
      `1${NNBSP}500,50${NBSP}€|+1${NNBSP}500,50${NBSP}$US|pos|14/07/2026 10:30${NBSP}UTC+2|Solde${NBSP}: &lt;b&gt;`,
    );
  });
});
