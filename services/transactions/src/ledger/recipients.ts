import type { Queryable } from '#shared/db.js';
import { ACCOUNT_NUMBER_PATTERN, hasAccountNumberShape, normalizeAccountNumber } from '#shared/contract/accounts.js';
import type { Currency } from '#shared/contract/money.js';
import { usernameKey } from '#shared/contract/usernames.js';
import { accountIdentities, type AccountIdentity } from './account-identities.js';
import { settlementAccount, type AccountRow } from './accounts.js';
import { refuse, type DepositRequest, type Refusal, type TransferRequest } from './movement.js';

/** Who pays whom, resolved with plain reads: numbers, owners, currencies and kinds never change. */
export interface Resolution {
  from?: AccountIdentity;
  to?: AccountIdentity;
  refusal?: Refusal;
}

/** An account number (separators, case and width ignored) or a username, as the request hash compares them. */
export function normalizeRecipient(to: string): string {
  const trimmed = to.trim();
  return hasAccountNumberShape(trimmed) ? normalizeAccountNumber(trimmed) : trimmed;
}

export async function resolveTransfer(db: Queryable, actorId: number, req: TransferRequest): Promise<Resolution> {
  const number = normalizeAccountNumber(req.fromAccount);
  const toKey = normalizeRecipient(req.to);
  // Both ends at once when the recipient is given as an account number (the usual case): no
  // query at all once this process has seen both accounts.
  const found = await accountIdentities(db, [number, toKey]);
  const from = found.find((a) => a.number === number);
  if (!from) return { refusal: refuse(404, 'unknown_account', `Le compte ${number} n’existe pas.`) };
  if (from.user_id === null || Number(from.user_id) !== actorId) {
    return { refusal: refuse(403, 'not_your_account', `Le compte ${number} ne vous appartient pas.`) };
  }
  const known = found.find((a) => a.number === toKey && a.kind !== 'settlement');
  const recipient = known ? { account: known } : await resolveRecipient(db, req.to, from.currency);
  if ('refusal' in recipient) return { refusal: recipient.refusal, from };
  return { from, to: recipient.account };
}

export async function resolveDeposit(db: Queryable, req: DepositRequest): Promise<Resolution> {
  const recipient = await resolveRecipient(db, req.to, undefined);
  if ('refusal' in recipient) return { refusal: recipient.refusal };
  return { from: await settlementAccount(db, recipient.account.currency), to: recipient.account };
}

/**
 * `to` is an account number (separators and case ignored) or a username (case ignored, see
 * #shared/contract/usernames.ts); a text with an account number's shape is never read as a
 * username (hasAccountNumberShape). A username means that
 * user's primary account, or, for another currency, their oldest account in that currency.
 * Settlement accounts are never a recipient.
 */
async function resolveRecipient(
  db: Queryable,
  to: string,
  currency: Currency | undefined,
): Promise<{ account: AccountIdentity } | { refusal: Refusal }> {
  const key = normalizeRecipient(to);
  if (hasAccountNumberShape(key)) {
    // Only ever an account number: a mistyped number must not pay a user who took that name.
    const [account] = ACCOUNT_NUMBER_PATTERN.test(key) ? await accountIdentities(db, [key]) : [];
    if (account && account.kind !== 'settlement') return { account };
    return { refusal: refuse(404, 'unknown_recipient', `Destinataire inconnu : aucun compte ${key}.`) };
  }
  // Every user has a primary account, so no account at all means no such user.
  const accounts: AccountRow[] = await db('accounts as a')
    .join('account_holders as h', 'h.id', 'a.user_id')
    .where('h.username_key', usernameKey(key))
    .orderBy('a.id')
    .select('a.*');
  if (accounts.length === 0) {
    return {
      refusal: refuse(404, 'unknown_recipient', `Destinataire inconnu : aucun compte ni utilisateur « ${key} ».`),
    };
  }
  const primary = accounts.find((a) => a.kind === 'primary');
  const account =
    currency === undefined || primary?.currency === currency ? primary : accounts.find((a) => a.currency === currency);
  if (!account) {
    return { refusal: refuse(422, 'currency_mismatch', `${key} n’a pas de compte en ${currency ?? 'EUR'}.`) };
  }
  return { account };
}
