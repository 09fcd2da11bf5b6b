import type { Clock } from '../domain/clock';
import type { TokenVerifier, VerifiedToken } from './token-verifier';

export interface TokenCacheOptions {
  /**
   * How long a successful verification is reused. This bounds how late a revocation is seen: a
   * token revoked, or an account disabled, in Firebase is still accepted for at most this long.
   * A token is never accepted past its own expiry.
   */
  readonly ttlMs: number;
  /** Most tokens remembered; the oldest are forgotten first. */
  readonly maxEntries: number;
}

interface Entry {
  readonly verified: VerifiedToken;
  readonly until: number;
}

/**
 * Remembers successful verifications for a short while. Verifying with checkRevoked asks Firebase
 * about the account on every call (a network round trip), which would otherwise cost every request
 * that long; concurrent requests with the same token share one verification. Refusals are never
 * remembered: a token is only ever accepted on a recent positive answer.
 */
export class CachingTokenVerifier implements TokenVerifier {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<VerifiedToken>>();

  constructor(
    private readonly inner: TokenVerifier,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly options: TokenCacheOptions,
  ) {}

  async verify(token: string): Promise<VerifiedToken> {
    const now = this.clock.now();
    const hit = this.entries.get(token);
    if (hit && now < hit.until) return hit.verified;
    if (hit) this.entries.delete(token);
    const inFlight = this.pending.get(token);
    if (inFlight) return inFlight;
    const verification = this.inner.verify(token).then(
      (verified) => {
        this.pending.delete(token);
        this.remember(token, verified);
        return verified;
      },
      (err: unknown) => {
        this.pending.delete(token);
        throw err;
      },
    );
    this.pending.set(token, verification);
    return verification;
  }

  private remember(token: string, verified: VerifiedToken): void {
    const until = Math.min(this.clock.now() + this.options.ttlMs, verified.expiresAt);
    if (until <= this.clock.now()) return;
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(token, { verified, until });
  }

  async close(): Promise<void> {
    this.entries.clear();
    await this.inner.close();
  }
}
