import { randomUUID } from 'node:crypto';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import type { App } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import type { Auth } from 'firebase-admin/auth';
import { ServiceUnavailableError, UnauthorizedError } from '../../shared/errors';
import type { TokenVerifier, VerifiedToken } from './token-verifier';

export interface FirebaseVerifierOptions {
  readonly projectId: string;
}

/** firebase-admin error codes that mean "this token is no good", as opposed to "cannot check now". */
const REJECTED: Record<string, string> = {
  'auth/id-token-expired': 'token expired',
  'auth/id-token-revoked': 'token revoked',
  'auth/user-disabled': 'user disabled',
  'auth/user-not-found': 'unknown user',
  'auth/argument-error': 'invalid token',
  'auth/invalid-id-token': 'invalid token',
};

/**
 * Verifies Firebase ID tokens with checkRevoked, which also asks Firebase whether the account was
 * disabled or its sessions revoked since the token was issued. firebase-admin talks to the Auth
 * emulator instead of Firebase when FIREBASE_AUTH_EMULATOR_HOST is in the environment; the
 * composition root makes that variable say what the validated config says.
 */
export class FirebaseTokenVerifier implements TokenVerifier {
  private readonly app: App;
  private readonly auth: Auth;

  constructor(opts: FirebaseVerifierOptions) {
    // A named app per verifier, so several can live in one process (tests) without clashing.
    this.app = initializeApp({ projectId: opts.projectId }, `mymonit-api-${randomUUID()}`);
    this.auth = getAuth(this.app);
  }

  async verify(token: string): Promise<VerifiedToken> {
    try {
      const decoded = await this.auth.verifyIdToken(token, true);
      return { uid: decoded.uid, expiresAt: decoded.exp * 1000 };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const reason = typeof code === 'string' ? REJECTED[code] : undefined;
      if (reason) throw new UnauthorizedError(reason);
      throw new ServiceUnavailableError('the identity provider cannot verify the token now');
    }
  }

  async close(): Promise<void> {
    await deleteApp(this.app);
  }
}
