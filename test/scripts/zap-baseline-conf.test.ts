import { readFileSync } from 'node:fs';
import { expect } from 'chai';

/** compose/zap-baseline.conf as zap-baseline.py reads it (zap_common.load_config). */
const lines = readFileSync(new URL('../../compose/zap-baseline.conf', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'));
const rules = lines.map((line) => {
  const [id = '', level = '', rest = ''] = line.split('\t');
  return { line, id, level, rest, tabs: line.split('\t').length - 1 };
});

describe('compose/zap-baseline.conf', function () {
  it('has the three TAB-separated fields ZAP requires and a known level on every rule line', function () {
    for (const rule of rules) {
      expect(rule.tabs, rule.line).to.be.at.least(2);
      expect(rule.id, rule.line).to.match(/^\d+$/);
      expect(['IGNORE', 'INFO', 'WARN', 'FAIL', 'OUTOFSCOPE'], rule.line).to.include(rule.level);
    }
  });

  it('gives a reason with every decision: "(rule name: why)"', function () {
    for (const rule of rules.filter((r) => r.level !== 'OUTOFSCOPE')) {
      expect(rule.rest, rule.line).to.match(/^\(.+: .+\)$/);
    }
  });

  it('fails on missing CSRF tokens except for the GET filter form of /transactions', function () {
    expect(rules.find((r) => r.id === '10202' && r.level !== 'OUTOFSCOPE')?.level).to.equal('FAIL');
    const outOfScope = rules.filter((r) => r.id === '10202' && r.level === 'OUTOFSCOPE').map((r) => new RegExp(r.rest));
    const skipped = (url: string): boolean => outOfScope.some((regex) => regex.test(url));
    expect(skipped('http://localhost:5000/transactions')).to.equal(true);
    expect(skipped('http://localhost:5000/transactions?page=2&account=3')).to.equal(true);
    expect(skipped('http://localhost:5000/transfer')).to.equal(false);
    expect(skipped('http://localhost:5000/transactions/export')).to.equal(false);
  });

  it('waives a cookie without Secure (10011) and a missing HSTS (10035) for plain HTTP only', function () {
    for (const id of ['10011', '10035']) {
      expect(rules.find((r) => r.id === id && r.level !== 'OUTOFSCOPE')?.level, id).to.equal('FAIL');
      const outOfScope = rules.filter((r) => r.id === id && r.level === 'OUTOFSCOPE').map((r) => new RegExp(r.rest));
      const waived = (url: string): boolean => outOfScope.some((regex) => regex.test(url));
      expect(waived('http://localhost:5000/login'), id).to.equal(true);
      expect(waived('http://localhost:5002/dashboard'), id).to.equal(true);
      expect(waived('https://localhost:5002/login'), id).to.equal(false);
      expect(waived('https://bank.example/login?next=http://x'), id).to.equal(false);
    }
  });
});
