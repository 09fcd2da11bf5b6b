/**
 * Row shapes the API repositories return. Plain data, no driver types: domain code imports these
 * without learning anything about mysql2.
 */

export type Role = 'ADMIN' | 'SCIENTIST';

export interface UserRecord {
  readonly id: string;
  readonly name: string | null;
  readonly username: string | null;
  readonly email: string | null;
  readonly role: Role;
  /** MySQL DATETIME(6) text, UTC; null while the user is active. */
  readonly deletedAt: string | null;
}

export interface NewUser {
  readonly id: string;
  readonly name: string;
  readonly username: string;
  readonly email: string;
  readonly role: Role;
}

export interface UserChanges {
  readonly name: string;
  readonly username: string;
  readonly email: string;
}

export interface ExperimentRecord {
  readonly id: number;
  readonly name: string;
}

export interface AssociationRecord {
  readonly experimentId: number;
  readonly experimentName: string;
  readonly user: UserRecord;
}

export interface MeasureTypeRecord {
  readonly id: number;
  readonly name: string;
  readonly symbol: string;
  readonly quantity: string;
}

/** Position of a measure in the (ts, measure_type_id, source) order of the primary key. */
export interface MeasureKey {
  /** DATETIME(6) text, UTC. */
  readonly ts: string;
  readonly measureTypeId: number;
  readonly source: string;
}

export interface MeasureQuery {
  readonly experimentId: number;
  readonly measureTypeId?: number;
  readonly source?: string;
  /** Inclusive lower bound, DATETIME(6) text. */
  readonly from?: string;
  /** Exclusive upper bound, DATETIME(6) text. */
  readonly to?: string;
  /** Return rows strictly after this key. */
  readonly after?: MeasureKey;
  readonly limit: number;
  /** The experiment's name, when the caller has it at hand; a page reads it otherwise. */
  readonly experimentName?: string;
}

/** A measure query without paging: every matching row, optionally capped. */
export type MeasureStreamQuery = Omit<MeasureQuery, 'limit'> & { readonly limit?: number };

export interface MeasureRecord extends MeasureKey {
  readonly experimentName: string;
  readonly measureTypeName: string;
  readonly value: number;
}

export interface RejectionRecord {
  readonly id: string;
  readonly receivedAt: string;
  readonly reason: string;
  readonly detail: string;
  readonly messageId: string | null;
  readonly raw: string;
  /** Length of the stored raw text; larger than raw.length when raw was cut for listing. */
  readonly rawLength: number;
}

export interface RejectionQuery {
  readonly reason?: string;
  /** Return rows with a smaller id (newest first). */
  readonly beforeId?: string;
  readonly limit: number;
}

export type AuditOutcome = 'success' | 'denied' | 'not_found' | 'failure';

export interface NewAuditEvent {
  readonly actorId: string | null;
  readonly actorUid: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly outcome: AuditOutcome;
  readonly ip: string | null;
  readonly requestId: string | null;
  /** Already redacted. */
  readonly details: Record<string, unknown> | null;
}

export interface AuditRecord extends NewAuditEvent {
  readonly id: string;
  readonly occurredAt: string;
}

export interface AuditQuery {
  readonly actorId?: string;
  readonly action?: string;
  readonly beforeId?: string;
  readonly limit: number;
}
