import { inject, injectable } from 'tsyringe';
import type { MeasureTypeRecord } from '../../../db/src/repositories/records';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
import { DATABASE } from './ports';
import type { Database } from './ports';
import { conflictFromDuplicate } from './conflicts';

@injectable()
export class MeasureTypeService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  async list(): Promise<MeasureTypeRecord[]> {
    return this.db.stores.measureTypes.list();
  }

  async create(actor: Actor, meta: RequestMeta, t: Omit<MeasureTypeRecord, 'id'>): Promise<MeasureTypeRecord> {
    try {
      return await this.db.transaction(async (s) => {
        const id = await s.measureTypes.insert(t);
        await s.audit.insert(
          auditEvent(actor, meta, { action: 'measure_type.create', targetType: 'measure_type', targetId: id, details: { ...t } }),
        );
        return { id, ...t };
      });
    } catch (err) {
      throw conflictFromDuplicate(err, { measure_types_name: 'name' }, 'measure type');
    }
  }
}
