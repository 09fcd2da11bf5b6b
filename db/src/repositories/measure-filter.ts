import type { Param } from './prepared';

/** What a measure read selects: one experiment, optionally one type and one source, a time range. */
export interface MeasureFilter {
  readonly experimentId: number;
  readonly measureTypeId?: number;
  readonly source?: string;
  /** Inclusive lower bound, DATETIME(6) text UTC. */
  readonly from?: string;
  /** Exclusive upper bound, DATETIME(6) text UTC. */
  readonly to?: string;
}

/** The WHERE conditions of a filter on `measures m`, to be joined with AND, and their parameters in the same order. */
export function measureFilterConditions(q: MeasureFilter): { conditions: string[]; params: Param[] } {
  const conditions = ['m.experiment_id = ?'];
  const params: Param[] = [q.experimentId];
  if (q.measureTypeId !== undefined) {
    conditions.push('m.measure_type_id = ?');
    params.push(q.measureTypeId);
  }
  if (q.source !== undefined) {
    conditions.push('m.source = ?');
    params.push(q.source);
  }
  if (q.from !== undefined) {
    conditions.push('m.ts >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    conditions.push('m.ts < ?');
    params.push(q.to);
  }
  return { conditions, params };
}
