import { expect } from 'chai';
import { passwordProblems } from '#web/auth/password-policy.js';

describe('password rules (ASVS 5.0 §6.2)', () => {
  it('accepts 8 to 128 characters with no composition rule, including the k6 and browser test passwords', () => {
    for (const ok of ['Test123!', 'motdepasse-solide', 'longenough1', 'x'.repeat(8) + 'yz', 'é'.repeat(128)]) {
      expect(passwordProblems(ok, 'someone'), ok).to.deep.equal([]);
    }
  });

  it('refuses a short, a long and an only-spaces password with a clear message', () => {
    expect(passwordProblems('short', 'u')).to.deep.equal(['Le mot de passe doit contenir au moins 8 caractères.']);
    expect(passwordProblems('p'.repeat(129), 'u')[0]).to.contain('au plus 128 caractères');
    expect(passwordProblems(' '.repeat(8), 'u')[0]).to.contain('uniquement d’espaces');
  });

  it('refuses the username itself, whatever its case', () => {
    for (const password of ['alice_smith', 'ALICE_SMITH', 'Alice_Smith']) {
      expect(passwordProblems(password, 'alice_smith')).to.deep.equal([
        'Le mot de passe ne doit pas être votre nom d’utilisateur.',
      ]);
    }
  });

  it('refuses common passwords in any case, among a list of at least 10,000', () => {
    for (const common of ['12345678', 'password', 'PASSWORD123', 'azerty123', 'motdepasse', 'iloveyou']) {
      expect(passwordProblems(common, 'u')[0], common).to.contain('les plus répandus');
    }
  });
});
