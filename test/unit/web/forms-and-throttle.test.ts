import { expect } from 'chai';
import { AppError } from '#shared/errors.js';
import { readForm } from '#web/forms.js';
import { LoginThrottle } from '#web/auth/login-throttle.js';

describe('strict form reading', () => {
  const fields = { username: { max: 10 }, password: { max: 10 } };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as AppError).code;
    }
    return 'no error';
  };

  it('returns the expected fields, empty when absent', () => {
    expect(readForm({ username: 'alice', _csrf: 't' }, fields)).to.deep.equal({ username: 'alice', password: '' });
  });

  it('refuses arrays, objects, over-long values and unknown fields', () => {
    expect(code(() => readForm({ username: ['a', 'b'] }, fields))).to.equal('invalid_field');
    expect(code(() => readForm({ username: { x: 1 } }, fields))).to.equal('invalid_field');
    expect(code(() => readForm({ username: 'x'.repeat(11) }, fields))).to.equal('field_too_long');
    expect(code(() => readForm({ username: 'a', is_admin: 'true' }, fields))).to.equal('unknown_field');
  });
});

describe('LoginThrottle', () => {
  it('blocks a username after N failures within the window, and forgets after it', () => {
    let now = 0;
    const throttle = new LoginThrottle(3, 100, 1_000, () => now);
    for (let i = 0; i < 3; i += 1) throttle.recordFailure('Alice', '10.0.0.1');
    expect(throttle.isBlocked('alice', '10.0.0.2')).to.equal(true);
    expect(throttle.isBlocked('bob', '10.0.0.2')).to.equal(false);
    now = 1_001;
    expect(throttle.isBlocked('alice', '10.0.0.2')).to.equal(false);
  });

  it('blocks an IP after too many failures across usernames', () => {
    const throttle = new LoginThrottle(100, 2, 60_000);
    throttle.recordFailure('a', '10.0.0.9');
    throttle.recordFailure('b', '10.0.0.9');
    expect(throttle.isBlocked('c', '10.0.0.9')).to.equal(true);
    expect(throttle.isBlocked('c', '10.0.0.8')).to.equal(false);
  });
});
