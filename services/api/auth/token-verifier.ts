import type { InjectionToken } from 'tsyringe';

export interface VerifiedToken {
  readonly uid: string;
  /** When the token stops being valid (its `exp`), milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Checks an ID token. Rejects with UnauthorizedError when the token is bad, expired or revoked,
 * and with ServiceUnavailableError when the identity provider cannot be asked.
 */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
  close(): Promise<void>;
}

export const TOKEN_VERIFIER: InjectionToken<TokenVerifier> = Symbol('TokenVerifier');
