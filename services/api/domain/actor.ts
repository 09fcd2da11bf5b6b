import type { AuditOutcome, NewAuditEvent, Role, UserRecord } from '../../../db/src/repositories/records';
import { redact } from '../../shared/logger';

export type { Role };

/** The authenticated caller: a user row found through their Firebase uid. */
export interface Actor {
  readonly id: string;
  readonly uid: string;
  readonly role: Role;
  /** When the credentials this request came with expire, milliseconds since the epoch. */
  readonly tokenExpiresAt: number;
  /**
   * Whether the user was associated with the experiment the request names, read with the user row
   * when the route is about one experiment's data, and then the experiment's name; absent otherwise.
   */
  readonly association?: { readonly experimentId: number; readonly associated: boolean; readonly experimentName?: string };
}

/** Facts about the request that go into audit events. */
export interface RequestMeta {
  readonly requestId: string;
  readonly ip: string | undefined;
}

export function actorOf(user: UserRecord, uid: string, tokenExpiresAt: number): Actor {
  return { id: user.id, uid, role: user.role, tokenExpiresAt };
}

/** What authentication read of the caller's association with this experiment, if it read it. */
export function knownAssociation(actor: Actor, experimentId: number): Actor['association'] {
  return actor.association?.experimentId === experimentId ? actor.association : undefined;
}

export interface AuditFacts {
  readonly action: string;
  readonly targetType?: string;
  readonly targetId?: string | number;
  readonly outcome?: AuditOutcome;
  readonly details?: Record<string, unknown>;
}

/** One audit event; details pass through the logger's redaction so no secret is ever stored. */
export function auditEvent(actor: Actor | undefined, meta: RequestMeta, f: AuditFacts, uid?: string): NewAuditEvent {
  return {
    actorId: actor?.id ?? null,
    actorUid: actor?.uid ?? uid ?? null,
    action: f.action,
    targetType: f.targetType ?? null,
    targetId: f.targetId === undefined ? null : String(f.targetId),
    outcome: f.outcome ?? 'success',
    ip: meta.ip ?? null,
    requestId: meta.requestId,
    details: f.details ? (redact(f.details) as Record<string, unknown>) : null,
  };
}
