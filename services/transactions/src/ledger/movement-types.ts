import type { TransferView } from '#shared/contract/api.js';

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
