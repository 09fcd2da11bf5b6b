import { inject, injectable } from 'tsyringe';
import type { AuditRecord, RejectionRecord } from '../../../db/src/repositories/records';
import { DATABASE } from './ports';
import type { Database } from './ports';

export interface IdPage<T> {
  readonly rows: T[];
  /** Id the next page starts below; undefined on the last page. */
  readonly nextBeforeId: string | undefined;
}

function cut<T extends { id: string }>(rows: T[], limit: number): IdPage<T> {
  const more = rows.length > limit;
  if (more) rows.length = limit;
  return { rows, nextBeforeId: more ? rows[rows.length - 1]?.id : undefined };
}

/** Newest-first listings for administrators: messages ingest rejected, and the audit trail. */
@injectable()
export class AdminListingService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  async rejections(q: { reason?: string; beforeId?: string; limit: number }): Promise<IdPage<RejectionRecord>> {
    return cut(await this.db.stores.rejections.page({ ...q, limit: q.limit + 1 }), q.limit);
  }

  async audit(q: { actorId?: string; action?: string; beforeId?: string; limit: number }): Promise<IdPage<AuditRecord>> {
    return cut(await this.db.stores.audit.page({ ...q, limit: q.limit + 1 }), q.limit);
  }
}
