import { FirebaseError, initializeApp } from 'firebase/app';
import {
  browserLocalPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
} from 'firebase/auth';
import type { Auth, User } from 'firebase/auth';
import type { TokenSource } from './api';
import type { RuntimeConfig } from './config';

export interface SignedIn {
  readonly uid: string;
  readonly email: string | null;
}

/** Why the person is looking at the sign-in form. */
export type SignedOutReason = 'start' | 'signed-out' | 'expired';

export interface AuthListener {
  signedIn(user: SignedIn): void;
  signedOut(reason: SignedOutReason, detail?: string): void;
}

const SIGN_IN_MESSAGES: Record<string, string> = {
  'auth/invalid-credential': 'Wrong e-mail or password.',
  'auth/invalid-login-credentials': 'Wrong e-mail or password.',
  'auth/wrong-password': 'Wrong e-mail or password.',
  'auth/user-not-found': 'Wrong e-mail or password.',
  'auth/invalid-email': 'That is not a valid e-mail address.',
  'auth/user-disabled': 'This account has been disabled. Contact an administrator.',
  'auth/too-many-requests': 'Too many attempts. Wait a moment and try again.',
  'auth/network-request-failed': 'Cannot reach the sign-in service. Check your connection and try again.',
};

/**
 * Firebase Authentication for the page: e-mail and password sign-in, sign-out, and ID tokens for
 * the API. The SDK refreshes tokens itself (getIdToken renews one about to expire); when a refresh
 * is refused (account disabled or tokens revoked) the SDK signs the user out, which the page
 * reports as an expired session rather than a sign-out the person asked for.
 */
export class AuthSession implements TokenSource {
  private readonly auth: Auth;
  private listener: AuthListener | undefined;
  private current: User | null = null;
  private known = false;
  private leaving: SignedOutReason | undefined;
  private leavingDetail: string | undefined;

  constructor(config: RuntimeConfig) {
    const app = initializeApp(config.firebase);
    // initializeAuth without a popup/redirect resolver keeps those flows out of the bundle.
    this.auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
    if (config.authEmulatorUrl) connectAuthEmulator(this.auth, config.authEmulatorUrl, { disableWarnings: true });
  }

  get emulator(): boolean {
    return this.auth.emulatorConfig !== null;
  }

  listen(listener: AuthListener): void {
    this.listener = listener;
    onAuthStateChanged(this.auth, (user) => {
      const was = this.current;
      this.current = user;
      const first = !this.known;
      this.known = true;
      if (user) {
        if (was?.uid !== user.uid) listener.signedIn({ uid: user.uid, email: user.email });
        return;
      }
      const reason: SignedOutReason = first ? 'start' : (this.leaving ?? 'expired');
      const detail = this.leavingDetail;
      this.leaving = undefined;
      this.leavingDetail = undefined;
      listener.signedOut(reason, detail);
    });
  }

  async signIn(email: string, password: string): Promise<void> {
    try {
      await signInWithEmailAndPassword(this.auth, email, password);
    } catch (err) {
      if (err instanceof FirebaseError) throw new Error(SIGN_IN_MESSAGES[err.code] ?? `Sign-in failed (${err.code}).`, { cause: err });
      throw err;
    }
  }

  async signOut(): Promise<void> {
    this.leaving = 'signed-out';
    await signOut(this.auth);
  }

  async token(forceRefresh: boolean): Promise<string> {
    const user = this.auth.currentUser;
    if (!user) throw new Error('Not signed in.');
    return user.getIdToken(forceRefresh);
  }

  expired(detail: string): void {
    this.leaving = 'expired';
    this.leavingDetail = detail;
    // Signing out fires onAuthStateChanged(null), which shows the sign-in form with the reason.
    signOut(this.auth).catch(() => this.listener?.signedOut('expired', detail));
  }
}
