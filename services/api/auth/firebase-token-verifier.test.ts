import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ServiceUnavailableError, UnauthorizedError } from '../../shared/errors';
import { FirebaseTokenVerifier } from './firebase-token-verifier';

/** An unsigned token shaped like the Auth emulator's. */
function emulatorToken(projectId: string, uid: string, expiresIn = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { iss: `https://securetoken.google.com/${projectId}`, aud: projectId, auth_time: now, user_id: uid, sub: uid, iat: now, exp: now + expiresIn };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

describe('FirebaseTokenVerifier against an unreachable emulator', () => {
  let port: number;
  let verifier: FirebaseTokenVerifier;
  beforeAll(async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    process.env.FIREBASE_AUTH_EMULATOR_HOST = `127.0.0.1:${port}`;
    verifier = new FirebaseTokenVerifier({ projectId: 'demo-unit' });
  });
  afterAll(async () => {
    await verifier.close();
  });

  it('refuses bad tokens without asking anyone (401)', async () => {
    await expect(verifier.verify('not-a-jwt')).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(verifier.verify(emulatorToken('another-project', 'u1'))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(verifier.verify(emulatorToken('demo-unit', 'u1', -60))).rejects.toThrow('token expired');
  });

  it('cannot check revocation when Firebase is away: 503, never a pass', async () => {
    await expect(verifier.verify(emulatorToken('demo-unit', 'u1'))).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
