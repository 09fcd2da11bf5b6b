import { inject, injectable } from 'tsyringe';
import type { AssociationRecord } from '../../../db/src/repositories/records';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
import { DATABASE } from './ports';
import type { Database } from './ports';

@injectable()
export class AssociationService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  async list(): Promise<AssociationRecord[]> {
    return this.db.stores.associations.list();
  }

  async associate(actor: Actor, meta: RequestMeta, experimentId: number, scientistId: string): Promise<void> {
    await this.db.transaction(async (s) => {
      if (!(await s.experiments.findById(experimentId))) throw new NotFoundError(`experiment ${experimentId} not found`);
      // Locks the user row so a concurrent erasure cannot leave an association to an erased user.
      const user = await s.users.findById(scientistId, true);
      if (!user || user.deletedAt !== null) throw new NotFoundError(`user ${scientistId} not found`);
      if (user.role !== 'SCIENTIST') {
        throw new ValidationError('only a SCIENTIST can be associated with an experiment', [
          { field: 'scientist_id', message: `is a ${user.role}, not a SCIENTIST` },
        ]);
      }
      if (!(await s.associations.insert(experimentId, scientistId))) {
        throw new ConflictError(`user ${scientistId} is already associated with experiment ${experimentId}`);
      }
      await s.audit.insert(
        auditEvent(actor, meta, {
          action: 'association.create',
          targetType: 'experiment',
          targetId: experimentId,
          details: { scientist_id: scientistId },
        }),
      );
    });
  }

  async dissociate(actor: Actor, meta: RequestMeta, experimentId: number, scientistId: string): Promise<void> {
    await this.db.transaction(async (s) => {
      if (!(await s.associations.delete(experimentId, scientistId))) {
        throw new NotFoundError(`user ${scientistId} is not associated with experiment ${experimentId}`);
      }
      await s.audit.insert(
        auditEvent(actor, meta, {
          action: 'association.delete',
          targetType: 'experiment',
          targetId: experimentId,
          details: { scientist_id: scientistId },
        }),
      );
    });
  }
}
