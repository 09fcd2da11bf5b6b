import { inject, injectable } from 'tsyringe';
import type { MeasureKey, MeasureRecord } from '../../../db/src/repositories/records';
import { ValidationError } from '../../shared/errors';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
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

@injectable()
export class MeasureService {
  constructor(@inject(DATABASE) private readonly db: Database) {}

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
  ): Promise<AsyncIterable<MeasureRecord>> {
    const measureTypeId = await this.measureTypeId(f.measure);
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

  private async measureTypeId(name: string | undefined): Promise<number | undefined> {
    if (name === undefined) return undefined;
    const type = await this.db.stores.measureTypes.findByName(name);
    if (!type) throw new ValidationError('unknown measure type', [{ field: 'measure', message: 'is not a known measure type' }]);
    return type.id;
  }

  /**
   * One page in primary-key order. The caller has been authorised for the experiment; the read and
   * its audit event share one transaction, so no read goes unrecorded.
   */
  async page(actor: Actor, meta: RequestMeta, f: MeasureFilter, limit: number, after?: MeasureKey): Promise<MeasurePage> {
    return this.db.transaction(async (s) => {
      let measureTypeId: number | undefined;
      if (f.measure !== undefined) {
        const type = await s.measureTypes.findByName(f.measure);
        if (!type) throw new ValidationError('unknown measure type', [{ field: 'measure', message: 'is not a known measure type' }]);
        measureTypeId = type.id;
      }
      // One row more than asked tells whether there is a next page without a COUNT.
      const rows = await s.measures.page({
        experimentId: f.experimentId,
        measureTypeId,
        source: f.source,
        from: f.from,
        to: f.to,
        after,
        limit: limit + 1,
      });
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const last = rows[rows.length - 1];
      await s.audit.insert(
        auditEvent(actor, meta, {
          action: 'measures.read',
          targetType: 'experiment',
          targetId: f.experimentId,
          details: { filter: { ...f, experimentId: undefined }, limit, after: after ?? null, returned: rows.length },
        }),
      );
      return { rows, next: more && last ? { ts: last.ts, measureTypeId: last.measureTypeId, source: last.source } : undefined };
    });
  }
}
