import { inject, injectable } from 'tsyringe';
import type { NewUser, UserChanges, UserRecord } from '../../../db/src/repositories/records';
import { ConflictError, ForbiddenError, NotFoundError } from '../../shared/errors';
import { conflictFromDuplicate } from './conflicts';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
import { DATABASE } from './ports';
import type { Database } from './ports';

/** Which request field a unique key protects, to name it in a 409. */
const FIELD_OF_KEY: Record<string, string> = { PRIMARY: 'user_id', users_username: 'username', users_email: 'email' };

@injectable()
export class UserService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  async list(): Promise<UserRecord[]> {
    return this.db.stores.users.listActive();
  }

  async get(id: string): Promise<UserRecord> {
    const user = await this.db.stores.users.findById(id);
    if (!user || user.deletedAt !== null) throw new NotFoundError(`user ${id} not found`);
    return user;
  }

  async create(actor: Actor, meta: RequestMeta, input: NewUser): Promise<UserRecord> {
    try {
      return await this.db.transaction(async (s) => {
        await s.users.insert(input);
        await s.audit.insert(
          auditEvent(actor, meta, { action: 'user.create', targetType: 'user', targetId: input.id, details: { role: input.role } }),
        );
        return { ...input, deletedAt: null };
      });
    } catch (err) {
      throw conflictFromDuplicate(err, FIELD_OF_KEY, 'user');
    }
  }

  /**
   * Name and e-mail are the user's own to change; the username is the Firebase uid that logs in as
   * this user, so only an ADMIN may re-point it (else a user could take over another account's
   * identity, the original's bug #30). Id and role never change here.
   */
  async update(actor: Actor, meta: RequestMeta, id: string, changes: UserChanges): Promise<UserRecord> {
    try {
      return await this.db.transaction(async (s) => {
        const current = await s.users.findById(id, true);
        if (!current || current.deletedAt !== null) throw new NotFoundError(`user ${id} not found`);
        if (changes.username !== current.username && actor.role !== 'ADMIN') {
          throw new ForbiddenError('only an ADMIN may change a username');
        }
        await s.users.update(id, changes);
        const changed = (['name', 'username', 'email'] as const).filter((f) => changes[f] !== current[f]);
        await s.audit.insert(auditEvent(actor, meta, { action: 'user.update', targetType: 'user', targetId: id, details: { changed } }));
        return { ...current, ...changes };
      });
    } catch (err) {
      throw conflictFromDuplicate(err, FIELD_OF_KEY, 'user');
    }
  }

  /**
   * GDPR erasure: personal fields are cleared and associations removed; the id and the audit trail
   * stay. The last active ADMIN cannot be erased, or nobody could administer the system.
   */
  async erase(actor: Actor, meta: RequestMeta, id: string): Promise<void> {
    await this.db.transaction(async (s) => {
      const current = await s.users.findById(id, true);
      if (!current || current.deletedAt !== null) throw new NotFoundError(`user ${id} not found`);
      if (current.role === 'ADMIN' && (await s.users.countActiveAdmins()) <= 1) {
        throw new ConflictError('the last ADMIN cannot be erased');
      }
      const associationsRemoved = await s.associations.deleteAllOfUser(id);
      await s.users.anonymise(id);
      await s.audit.insert(
        auditEvent(actor, meta, { action: 'user.erase', targetType: 'user', targetId: id, details: { associationsRemoved } }),
      );
    });
  }
}
