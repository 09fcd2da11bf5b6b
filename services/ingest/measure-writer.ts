import { inject, injectable } from 'tsyringe';
import type { InjectionToken } from 'tsyringe';
import type { Pool } from '../../db/src/pool';
import { withTransaction } from '../../db/src/pool';
import {
  batchCommitted,
  insertRejections,
  markBatchCommitted,
  purgeBatchMarkers,
  upsertMeasures,
} from '../../db/src/repositories/measure-write.repository';
import type { MeasureRow, RejectionRow } from '../../db/src/repositories/measure-write.repository';
import type { DecodedMessage, RejectionReason } from '../shared/measure-contract';
import { microsToSql } from '../shared/measure-contract';
import { TOKENS } from '../shared/tokens';
import { NameResolver } from './name-resolver';

export interface PendingMessage {
  readonly decoded: DecodedMessage;
  readonly messageId: string | undefined;
}

export interface BatchOutcome {
  readonly stored: number;
  readonly rejected: ReadonlyMap<RejectionReason, number>;
}

export const BATCH_SINK: InjectionToken<BatchSink> = Symbol('BatchSink');

export interface BatchSink {
  /**
   * Stores one batch. `batchId` is the same across retries of a batch; `mayBeStored` says an
   * earlier attempt failed in a way that may have committed (its reply was lost).
   */
  write(messages: readonly PendingMessage[], batchId: string, mayBeStored: boolean): Promise<BatchOutcome>;
}

/** Batch markers are purged once per this many batches, keeping a day of them. */
const PURGE_EVERY_BATCHES = 1000;

/** A row and its timestamp as a number, which compares faster than the text (same order). */
interface KeyedRow extends MeasureRow {
  readonly timestampUs: number;
}

function compareRows(a: KeyedRow, b: KeyedRow): number {
  return (
    a.experimentId - b.experimentId ||
    a.timestampUs - b.timestampUs ||
    a.measureTypeId - b.measureTypeId ||
    (a.source < b.source ? -1 : a.source > b.source ? 1 : 0)
  );
}

/**
 * Writes one batch: resolves names, turns unknown ones into rejections, and stores measures and
 * rejections in one transaction, so a batch is either wholly stored or not at all.
 */
@injectable()
export class MeasureWriter implements BatchSink {
  constructor(
    @inject(TOKENS.Pool) private readonly pool: Pool,
    @inject(NameResolver) private readonly names: NameResolver,
  ) {}

  private batchesSincePurge = 0;

  async write(messages: readonly PendingMessage[], batchId: string, mayBeStored: boolean): Promise<BatchOutcome> {
    const experimentNames = new Set<string>();
    const typeNames = new Set<string>();
    for (const m of messages) {
      for (const x of m.decoded.measures) {
        experimentNames.add(x.experiment);
        typeNames.add(x.measure);
      }
    }
    await this.names.load(experimentNames, typeNames);

    const rows: KeyedRow[] = [];
    const rejections: RejectionRow[] = [];
    const rejected = new Map<RejectionReason, number>();
    for (const m of messages) {
      for (const r of m.decoded.rejections) {
        rejections.push({ reason: r.reason, detail: r.detail, raw: r.raw, messageId: m.messageId });
        rejected.set(r.reason, (rejected.get(r.reason) ?? 0) + 1);
      }
      const measures = m.decoded.measures;
      for (let i = 0; i < measures.length; i++) {
        const x = measures[i];
        const experimentId = this.names.experiment(x.experiment);
        const measureTypeId = this.names.measureType(x.measure);
        if (experimentId === undefined || measureTypeId === undefined) {
          const reason: RejectionReason = experimentId === undefined ? 'unknown_experiment' : 'unknown_measure_type';
          const detail =
            experimentId === undefined
              ? `experiment: no experiment named ${JSON.stringify(x.experiment)}`
              : `measure: no measure type named ${JSON.stringify(x.measure)}`;
          rejections.push({ reason, detail, raw: m.decoded.rawOf(i), messageId: m.messageId });
          rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
          continue;
        }
        rows.push({
          experimentId,
          measureTypeId,
          source: x.source,
          timestampUs: x.timestampUs,
          ts: microsToSql(x.timestampUs),
          value: x.value,
        });
      }
    }

    // Stable sort, then keep the last of equal keys: the batch applies in arrival order (last
    // write wins) and locks are always taken in key order.
    rows.sort(compareRows);
    const unique: KeyedRow[] = [];
    for (const r of rows) {
      const prev = unique[unique.length - 1];
      if (prev && compareRows(prev, r) === 0) unique[unique.length - 1] = r;
      else unique.push(r);
    }

    const outcome = { stored: rows.length, rejected };
    if (mayBeStored && (await batchCommitted(this.pool, batchId))) return outcome;
    await withTransaction(this.pool, async (conn) => {
      // The marker is queued behind the upserts rather than after their replies: one round trip
      // less per batch. Both are queued before anything is awaited, so a ROLLBACK after a failure
      // is queued behind them too and undoes them all.
      await Promise.all([unique.length ? upsertMeasures(conn, unique) : undefined, markBatchCommitted(conn, batchId)]);
      await insertRejections(conn, rejections);
    });
    if (++this.batchesSincePurge >= PURGE_EVERY_BATCHES) {
      this.batchesSincePurge = 0;
      await purgeBatchMarkers(this.pool).catch(() => undefined);
    }
    return outcome;
  }
}
