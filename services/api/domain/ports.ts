import type { InjectionToken } from 'tsyringe';
import type {
  AssociationRecord,
  AuditQuery,
  AuditRecord,
  ExperimentRecord,
  MeasureQuery,
  MeasureRecord,
  MeasureStreamQuery,
  MeasureTypeRecord,
  NewAuditEvent,
  NewUser,
  RejectionQuery,
  RejectionRecord,
  UserChanges,
  UserRecord,
} from '../../../db/src/repositories/records';
import type { MeasureAggregateQuery, MeasureAggregateRecord } from '../../../db/src/repositories/measure-aggregate.repository';

/**
 * What the domain needs from storage, in plain types. The MySQL repositories satisfy these
 * structurally; tests may hand in fakes.
 */

export interface UserStore {
  findById(id: string, forUpdate?: boolean): Promise<UserRecord | undefined>;
  findActiveByUsername(username: string): Promise<UserRecord | undefined>;
  findActiveByUsernameWithAssociation(
    username: string,
    experimentId: number,
  ): Promise<{ user: UserRecord; associated: boolean; experimentName?: string } | undefined>;
  listActive(): Promise<UserRecord[]>;
  countActiveAdmins(): Promise<number>;
  insert(u: NewUser): Promise<void>;
  update(id: string, c: UserChanges): Promise<boolean>;
  anonymise(id: string): Promise<boolean>;
}

export interface ExperimentStore {
  findById(id: number): Promise<ExperimentRecord | undefined>;
  listAll(): Promise<ExperimentRecord[]>;
  listForUser(userId: string): Promise<ExperimentRecord[]>;
  insert(name: string): Promise<number>;
  rename(id: number, name: string): Promise<boolean>;
}

export interface AssociationStore {
  exists(experimentId: number, userId: string): Promise<boolean>;
  list(): Promise<AssociationRecord[]>;
  insert(experimentId: number, userId: string): Promise<boolean>;
  delete(experimentId: number, userId: string): Promise<boolean>;
  deleteAllOfUser(userId: string): Promise<number>;
}

export interface MeasureTypeStore {
  list(): Promise<MeasureTypeRecord[]>;
  findByName(name: string): Promise<MeasureTypeRecord | undefined>;
  insert(t: Omit<MeasureTypeRecord, 'id'>): Promise<number>;
}

export interface MeasureStore {
  page(q: MeasureQuery): Promise<MeasureRecord[]>;
}

export interface MeasureAggregateStore {
  aggregate(q: MeasureAggregateQuery): Promise<MeasureAggregateRecord[]>;
}

export interface RejectionStore {
  page(q: RejectionQuery): Promise<RejectionRecord[]>;
}

export interface AuditStore {
  insert(e: NewAuditEvent): Promise<void>;
  page(q: AuditQuery): Promise<AuditRecord[]>;
}

export interface Stores {
  readonly users: UserStore;
  readonly experiments: ExperimentStore;
  readonly associations: AssociationStore;
  readonly measureTypes: MeasureTypeStore;
  readonly measures: MeasureStore;
  readonly measureAggregates: MeasureAggregateStore;
  readonly rejections: RejectionStore;
  readonly audit: AuditStore;
}

export interface Database {
  /** Stores outside any transaction (autocommit), for plain reads. */
  readonly stores: Stores;
  /** Runs fn with stores bound to one transaction: commit on return, roll back on throw. */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
  /** Rejects when the database cannot answer. */
  ping(): Promise<void>;
  /**
   * Every matching measure, in batches in key order, pulled as the consumer reads, on a connection
   * of its own. Stopping early (return() on the iterator, or the signal) stops the query on the
   * server.
   */
  streamMeasures(q: MeasureStreamQuery, signal?: AbortSignal): AsyncIterable<readonly MeasureRecord[]>;
}

export const DATABASE: InjectionToken<Database> = Symbol('Database');

/** Limits of paged listings, from the configuration. */
export interface PageLimits {
  readonly default: number;
  readonly max: number;
}

export const PAGE_LIMITS: InjectionToken<PageLimits> = Symbol('PageLimits');
