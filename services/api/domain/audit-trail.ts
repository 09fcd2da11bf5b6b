import { inject, injectable } from 'tsyringe';
import type { AuditOutcome } from '../../../db/src/repositories/records';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
import { DATABASE } from './ports';
import type { Database } from './ports';

export interface Denial {
  readonly action: string;
  readonly outcome: Extract<AuditOutcome, 'denied' | 'not_found'>;
  readonly targetType?: string;
  readonly targetId?: string | number;
  readonly status: number;
  readonly reason: string;
  readonly method: string;
  readonly path: string;
}

/**
 * Records refused attempts on protected resources. Nothing changed, so there is no transaction to
 * share: the event is one autocommitted insert.
 */
@injectable()
export class AuditTrail {
  constructor(@inject(DATABASE) private readonly db: Database) {}

  async recordDenial(actor: Actor | undefined, uid: string | undefined, meta: RequestMeta, d: Denial): Promise<void> {
    await this.db.stores.audit.insert(
      auditEvent(
        actor,
        meta,
        {
          action: d.action,
          targetType: d.targetType,
          targetId: d.targetId,
          outcome: d.outcome,
          details: { status: d.status, reason: d.reason, method: d.method, path: d.path },
        },
        uid,
      ),
    );
  }
}
