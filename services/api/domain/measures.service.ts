import { inject, injectable } from 'tsyringe';
import type { MeasureAggregateRecord } from '../../../db/src/repositories/measure-aggregate.repository';
import type { MeasureKey, MeasureRecord } from '../../../db/src/repositories/records';
import { microsToSql } from '../../shared/measure-contract';
import { ValidationError } from '../../shared/errors';
import type { AggregateFunction } from './aggregation';
import { bucketCount, MAX_BUCKETS } from './aggregation';
import type { Actor, RequestMeta } from './actor';
import { auditEvent, knownAssociation } from './actor';
import { MeasureTypeIds } from './measure-type-ids';
import { DATABASE } from './ports';
import type { Database } from './ports';

export interface MeasureFilter {
  readonly experimentId: number;
  /** Measure type name. */
  readonly measure?: string;
  readonly source?: string;
  /** Inclusive, DATETIME(6) text UTC. */
  readonly from?: string;
  /** Exclusive, DATETIME(6) text UTC. */
  readonly to?: string;
}

export interface MeasurePage {
  readonly rows: MeasureRecord[];
  /** Where the next page starts; undefined on the last page. */
  readonly next: MeasureKey | undefined;
}

export type ExportFormat = 'csv' | 'ndjson';

export interface AggregateRequest {
  readonly experimentId: number;
  /** Measure type name; undefined: one series per measure type. */
  readonly measure?: string;
  readonly source?: string;
  /** Inclusive, microseconds since the epoch. */
  readonly fromUs: number;
  /** Exclusive, microseconds since the epoch; after fromUs. */
  readonly toUs: number;
  readonly intervalSeconds: number;
  readonly fns: readonly AggregateFunction[];
}

@injectable()
export class MeasureService {
  constructor(
    @inject(DATABASE) private readonly db: Database,
    @inject(MeasureTypeIds) private readonly types: MeasureTypeIds,
  ) {}

  /**
   * Every matching measure, for a streamed export. The audit event is committed before the first
   * row is read rather than in one transaction with a read that may run for minutes: a client that
   * breaks off mid-stream has still seen data, and a rolled-back event would hide that.
   */
  async export(
    actor: Actor,
    meta: RequestMeta,
    f: MeasureFilter,
    format: ExportFormat,
    opts: { limit?: number; after?: MeasureKey; signal?: AbortSignal },
  ): Promise<AsyncIterable<readonly MeasureRecord[]>> {
    const measureTypeId = await this.types.resolve(f.measure);
    await this.db.stores.audit.insert(
      auditEvent(actor, meta, {
        action: 'measures.export',
        targetType: 'experiment',
        targetId: f.experimentId,
        details: { filter: { ...f, experimentId: undefined }, format, limit: opts.limit ?? null, after: opts.after ?? null },
      }),
    );
    return this.db.streamMeasures(
      { experimentId: f.experimentId, measureTypeId, source: f.source, from: f.from, to: f.to, after: opts.after, limit: opts.limit },
      opts.signal,
    );
  }

  /**
   * avg/min/max/count per interval-aligned UTC bucket, computed by the database; buckets without
   * rows are left out. Audited like a page.
   */
  async aggregate(actor: Actor, meta: RequestMeta, r: AggregateRequest): Promise<MeasureAggregateRecord[]> {
    if (!(r.toUs > r.fromUs)) throw new ValidationError('empty time range', [{ field: 'to', message: 'must be after from' }]);
    const buckets = bucketCount(r.fromUs, r.toUs, r.intervalSeconds);
    if (buckets > MAX_BUCKETS) {
      throw new ValidationError('too many buckets', [
        { field: 'interval', message: `makes ${buckets} buckets between from and to; at most ${MAX_BUCKETS}: widen the interval or narrow the range` },
      ]);
    }
    const measureTypeId = await this.types.resolve(r.measure);
    const from = microsToSql(r.fromUs);
    const to = microsToSql(r.toUs);
    const rows = await this.db.stores.measureAggregates.aggregate({
      experimentId: r.experimentId,
      measureTypeId,
      source: r.source,
      from,
      to,
      intervalSeconds: r.intervalSeconds,
      fns: r.fns,
    });
    await this.db.stores.audit.insert(
      auditEvent(actor, meta, {
        action: 'measures.aggregate',
        targetType: 'experiment',
        targetId: r.experimentId,
        details: { filter: { measure: r.measure, source: r.source, from, to }, interval_seconds: r.intervalSeconds, fn: r.fns, returned: rows.length },
      }),
    );
    return rows;
  }

  /**
   * One page in primary-key order; the caller has been authorised for the experiment. The audit
   * event says what was asked for (filter, limit, cursor), as for an export, and is written
   * (autocommit) while the page is read: the page is returned only once both have succeeded, so
   * no read goes unrecorded, and the event's commit (a log flush) no longer adds its time to the
   * read's. A read that then fails has its event all the same: it records an authorised attempt.
   */
  async page(actor: Actor, meta: RequestMeta, f: MeasureFilter, limit: number, after?: MeasureKey): Promise<MeasurePage> {
    const measureTypeId = await this.types.resolve(f.measure);
    const [rows] = await Promise.all([
      // One row more than asked tells whether there is a next page without a COUNT.
      this.db.stores.measures.page({
        experimentId: f.experimentId,
        measureTypeId,
        source: f.source,
        from: f.from,
        to: f.to,
        after,
        limit: limit + 1,
        experimentName: knownAssociation(actor, f.experimentId)?.experimentName,
      }),
      this.db.stores.audit.insert(
        auditEvent(actor, meta, {
          action: 'measures.read',
          targetType: 'experiment',
          targetId: f.experimentId,
          details: { filter: { ...f, experimentId: undefined }, limit, after: after ?? null },
        }),
      ),
    ]);
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const last = rows[rows.length - 1];
    return { rows, next: more && last ? { ts: last.ts, measureTypeId: last.measureTypeId, source: last.source } : undefined };
  }
}
