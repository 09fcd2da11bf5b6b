import { ServiceUnavailableError, UnauthorizedError } from '../../shared/errors';
import { CachingTokenVerifier } from './caching-token-verifier';
import type { TokenVerifier, VerifiedToken } from './token-verifier';

class FakeVerifier implements TokenVerifier {
  calls = 0;
  revoked = new Set<string>();
  down = false;
  constructor(private readonly expiresAt: number) {}
  verify(token: string): Promise<VerifiedToken> {
    this.calls++;
    if (this.down) return Promise.reject(new ServiceUnavailableError('later'));
    if (this.revoked.has(token)) return Promise.reject(new UnauthorizedError('token revoked'));
    return Promise.resolve({ uid: `uid-of-${token}`, expiresAt: this.expiresAt });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('CachingTokenVerifier', () => {
  const start = 1_700_000_000_000;
  let now: number;
  const clock = { now: () => now };
  beforeEach(() => {
    now = start;
  });

  it('reuses a verification for ttlMs, then asks again, so a revocation is seen within that bound', async () => {
    const inner = new FakeVerifier(start + 3_600_000);
    const cache = new CachingTokenVerifier(inner, clock, { ttlMs: 30_000, maxEntries: 10 });
    await expect(cache.verify('t')).resolves.toEqual({ uid: 'uid-of-t', expiresAt: start + 3_600_000 });
    inner.revoked.add('t');
    now += 29_999;
    await expect(cache.verify('t')).resolves.toMatchObject({ uid: 'uid-of-t' });
    expect(inner.calls).toBe(1);
    now += 1;
    await expect(cache.verify('t')).rejects.toThrow('token revoked');
    await expect(cache.verify('t')).rejects.toThrow('token revoked');
    expect(inner.calls).toBe(3);
  });

  it('never accepts a token past its expiry', async () => {
    const inner = new FakeVerifier(start + 5_000);
    const cache = new CachingTokenVerifier(inner, clock, { ttlMs: 30_000, maxEntries: 10 });
    await cache.verify('t');
    now = start + 5_000;
    inner.down = true;
    await expect(cache.verify('t')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('shares one verification among concurrent requests and remembers no failure', async () => {
    const inner = new FakeVerifier(start + 3_600_000);
    const cache = new CachingTokenVerifier(inner, clock, { ttlMs: 30_000, maxEntries: 10 });
    await Promise.all([cache.verify('t'), cache.verify('t'), cache.verify('t')]);
    expect(inner.calls).toBe(1);
    inner.down = true;
    await expect(Promise.all([cache.verify('u'), cache.verify('u')])).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(inner.calls).toBe(2);
    inner.down = false;
    await expect(cache.verify('u')).resolves.toMatchObject({ uid: 'uid-of-u' });
  });

  it('forgets the oldest tokens beyond maxEntries', async () => {
    const inner = new FakeVerifier(start + 3_600_000);
    const cache = new CachingTokenVerifier(inner, clock, { ttlMs: 30_000, maxEntries: 2 });
    for (const t of ['a', 'b', 'c']) await cache.verify(t);
    await cache.verify('c');
    await cache.verify('b');
    expect(inner.calls).toBe(3);
    await cache.verify('a');
    expect(inner.calls).toBe(4);
  });
});
