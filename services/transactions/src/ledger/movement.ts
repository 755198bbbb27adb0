import type { TransferView } from '#shared/contract/api.js';

/**
 * What a movement is: one row of `transfers`, a transfer between two accounts or a deposit from
 * settlement (admin), accepted or refused. The route hands a request to the use case
 * (transfers.ts, executeMovement), which answers with an outcome; recipients.ts and replay.ts
 * speak the same words, which is why they live here and not in the use case.
 */

/** A transfer or deposit as the routes hand it to executeMovement (amount already in cents). */
export interface TransferRequest {
  kind: 'transfer';
  idempotencyKey: string;
  fromAccount: string;
  to: string;
  amountCents: number;
  label: string | undefined;
}

export interface DepositRequest {
  kind: 'deposit';
  idempotencyKey: string;
  to: string;
  amountCents: number;
  label: string | undefined;
}

export type MovementRequest = TransferRequest | DepositRequest;

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export type MovementOutcome =
  | { outcome: 'succeeded'; replay: boolean; transfer: TransferView }
  | { outcome: 'refused'; replay: boolean; refusal: Refusal }
  | { outcome: 'key_reused' };

export const DEFAULT_LABEL = { transfer: 'Virement', deposit: 'Dépôt' } as const;

export const refuse = (status: number, code: string, message: string): Refusal => ({ status, code, message });
