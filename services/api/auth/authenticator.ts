import { inject, injectable } from 'tsyringe';
import { UnauthorizedError } from '../../shared/errors';
import type { Actor } from '../domain/actor';
import { actorOf } from '../domain/actor';
import { DATABASE } from '../domain/ports';
import type { Database } from '../domain/ports';
import { TOKEN_VERIFIER } from './token-verifier';
import type { TokenVerifier } from './token-verifier';

/** RFC 6750 b64token; also bounds the length so nobody makes us parse megabytes. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_HEADER_CHARS = 8192;

/** Thrown for a verified token whose uid maps to no active user; carries the uid for the audit. */
export class UnknownUidError extends UnauthorizedError {
  constructor(readonly uid: string) {
    super('unknown user');
  }
}

/** Authorization header → Actor, or UnauthorizedError. */
@injectable()
export class Authenticator {
  constructor(
    @inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @inject(DATABASE) private readonly db: Database,
  ) {}

  /**
   * With experimentId (a route about one experiment's data), the user row and the user's
   * association with it come in one statement, and the actor carries the answer.
   */
  async authenticate(authorization: string | undefined, experimentId?: number): Promise<Actor> {
    if (authorization === undefined || authorization === '') throw new UnauthorizedError('missing Authorization header');
    const m = authorization.length <= MAX_HEADER_CHARS ? BEARER.exec(authorization) : null;
    if (!m) throw new UnauthorizedError('malformed Authorization header; expected "Bearer <Firebase ID token>"');
    const { uid, expiresAt } = await this.verifier.verify(m[1]);
    if (experimentId === undefined) {
      const user = await this.db.stores.users.findActiveByUsername(uid);
      if (!user) throw new UnknownUidError(uid);
      return actorOf(user, uid, expiresAt);
    }
    const found = await this.db.stores.users.findActiveByUsernameWithAssociation(uid, experimentId);
    if (!found) throw new UnknownUidError(uid);
    const { user, ...association } = found;
    return { ...actorOf(user, uid, expiresAt), association: { experimentId, ...association } };
  }
}
