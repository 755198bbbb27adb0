import { dictionary } from '@zxcvbn-ts/language-common';
import { usernameKey } from '#shared/contract/usernames.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

/**
 * The ~49,000 most common passwords of zxcvbn-ts (lower-case, from public breach corpora),
 * loaded once into a Set at start-up (about 60 ms).
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common']);

/**
 * What is wrong with a new password, as messages for the form (OWASP ASVS 5.0 §6.2): 8 to 128
 * characters, no composition rule, not only spaces, not the username (whatever its case), not a
 * common password. An empty list means it is accepted.
 */
export function passwordProblems(password: string, username: string): string[] {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return [`Le mot de passe doit contenir au moins ${PASSWORD_MIN_LENGTH} caractères.`];
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return [`Le mot de passe doit contenir au plus ${PASSWORD_MAX_LENGTH} caractères.`];
  }
  if (password.trim() === '') return ['Le mot de passe ne peut pas être fait uniquement d’espaces.'];
  if (usernameKey(password) === usernameKey(username)) {
    return ['Le mot de passe ne doit pas être votre nom d’utilisateur.'];
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    return ['Ce mot de passe fait partie des mots de passe les plus répandus : choisissez-en un autre.'];
  }
  return [];
}
