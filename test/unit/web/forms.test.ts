import { expect } from 'chai';
import { AppError } from '#shared/errors.js';
import { readForm } from '#web/forms.js';

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
