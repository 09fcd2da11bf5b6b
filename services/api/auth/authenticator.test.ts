import { ServiceUnavailableError, UnauthorizedError } from '../../shared/errors';
import type { Database } from '../domain/ports';
import { Authenticator, UnknownUidError } from './authenticator';
import type { TokenVerifier } from './token-verifier';

const users = new Map([['uid-1', { id: 'S001', name: 'P', username: 'uid-1', email: 'p@x', role: 'SCIENTIST' as const, deletedAt: null }]]);
/** Experiment 7 is the one uid-1's user is associated with. */
const lookups: string[] = [];
const db = {
  stores: {
    users: {
      findActiveByUsername: (uid: string) => {
        lookups.push(`user ${uid}`);
        return Promise.resolve(users.get(uid));
      },
      findActiveByUsernameWithAssociation: (uid: string, experimentId: number) => {
        lookups.push(`user ${uid} with experiment ${experimentId}`);
        const user = users.get(uid);
        return Promise.resolve(user && (experimentId === 7 ? { user, associated: true, experimentName: 'vibrations' } : { user, associated: false }));
      },
    },
  },
} as unknown as Database;
const seen: string[] = [];
const verifier: TokenVerifier = {
  verify: (token) => {
    seen.push(token);
    if (token === 'down') return Promise.reject(new ServiceUnavailableError('later'));
    if (token.startsWith('uid-')) return Promise.resolve({ uid: token, expiresAt: 1_700_000_000_000 });
    return Promise.reject(new UnauthorizedError('invalid token'));
  },
  close: () => Promise.resolve(),
};
const auth = new Authenticator(verifier, db);

describe('Authenticator', () => {
  it('maps a verified uid to the active user it belongs to; the role comes from the database', async () => {
    await expect(auth.authenticate('Bearer uid-1')).resolves.toEqual({ id: 'S001', uid: 'uid-1', role: 'SCIENTIST', tokenExpiresAt: 1_700_000_000_000 });
    await expect(auth.authenticate('bearer   uid-1')).resolves.toMatchObject({ id: 'S001' });
  });

  it('for a route about one experiment, reads the association (and the experiment name) with the user row and hands it on', async () => {
    lookups.length = 0;
    await expect(auth.authenticate('Bearer uid-1', 7)).resolves.toEqual({
      id: 'S001',
      uid: 'uid-1',
      role: 'SCIENTIST',
      tokenExpiresAt: 1_700_000_000_000,
      association: { experimentId: 7, associated: true, experimentName: 'vibrations' },
    });
    await expect(auth.authenticate('Bearer uid-1', 8)).resolves.toMatchObject({ association: { experimentId: 8, associated: false } });
    expect((await auth.authenticate('Bearer uid-1', 8)).association).not.toHaveProperty('experimentName');
    await expect(auth.authenticate('Bearer uid-unknown', 7)).rejects.toBeInstanceOf(UnknownUidError);
    await auth.authenticate('Bearer uid-1');
    expect(lookups).toEqual(['user uid-1 with experiment 7', 'user uid-1 with experiment 8', 'user uid-1 with experiment 8', 'user uid-unknown with experiment 7', 'user uid-1']);
  });

  it.each([
    [undefined, /missing/],
    ['', /missing/],
    ['uid-1', /malformed/],
    ['Bearer', /malformed/],
    ['Bearer: uid-1', /malformed/],
    ['Basic dXNlcjpwdw==', /malformed/],
    ['Bearer two tokens', /malformed/],
    [`Bearer ${'a'.repeat(9000)}`, /malformed/],
  ])('refuses the header %j without asking Firebase', async (header, message) => {
    seen.length = 0;
    await expect(auth.authenticate(header)).rejects.toThrow(message);
    await expect(auth.authenticate(header)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(seen).toEqual([]);
  });

  it('refuses a valid token whose uid maps to nobody, keeping the uid for the audit', async () => {
    const err = await auth.authenticate('Bearer uid-unknown').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownUidError);
    expect((err as UnknownUidError).uid).toBe('uid-unknown');
    expect((err as UnknownUidError).status).toBe(401);
  });

  it('passes on the verifier’s verdict', async () => {
    await expect(auth.authenticate('Bearer bad.token')).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(auth.authenticate('Bearer down')).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
