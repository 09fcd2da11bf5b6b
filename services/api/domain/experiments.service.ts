import { inject, injectable } from 'tsyringe';
import type { ExperimentRecord } from '../../../db/src/repositories/records';
import { NotFoundError } from '../../shared/errors';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
import { DATABASE } from './ports';
import type { Database } from './ports';
import { conflictFromDuplicate } from './conflicts';

const FIELD_OF_KEY = { experiments_name: 'name' };

@injectable()
export class ExperimentService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  /** ADMIN: every experiment; SCIENTIST: the ones they are associated with. */
  async list(actor: Actor): Promise<ExperimentRecord[]> {
    return actor.role === 'ADMIN' ? this.db.stores.experiments.listAll() : this.db.stores.experiments.listForUser(actor.id);
  }

  async create(actor: Actor, meta: RequestMeta, name: string): Promise<ExperimentRecord> {
    try {
      return await this.db.transaction(async (s) => {
        const id = await s.experiments.insert(name);
        await s.audit.insert(auditEvent(actor, meta, { action: 'experiment.create', targetType: 'experiment', targetId: id, details: { name } }));
        return { id, name };
      });
    } catch (err) {
      throw conflictFromDuplicate(err, FIELD_OF_KEY, 'experiment');
    }
  }

  async rename(actor: Actor, meta: RequestMeta, id: number, name: string): Promise<ExperimentRecord> {
    try {
      return await this.db.transaction(async (s) => {
        const current = await s.experiments.findById(id);
        if (!current || !(await s.experiments.rename(id, name))) throw new NotFoundError(`experiment ${id} not found`);
        await s.audit.insert(
          auditEvent(actor, meta, { action: 'experiment.rename', targetType: 'experiment', targetId: id, details: { from: current.name, to: name } }),
        );
        return { id, name };
      });
    } catch (err) {
      throw conflictFromDuplicate(err, FIELD_OF_KEY, 'experiment');
    }
  }
}
