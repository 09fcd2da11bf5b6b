import type { AggregateFunction } from '../../../db/src/repositories/measure-aggregate.repository';

export type { AggregateFunction };

/** Rules of GET /measures/{id}/aggregate: interval syntax and bounds, functions, bucket cap. */

export const AGGREGATE_FUNCTIONS: readonly AggregateFunction[] = ['avg', 'min', 'max', 'count'];

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const INTERVAL = /^([1-9]\d{0,8})([smhd])$/;

export const MIN_INTERVAL_SECONDS = 1;
export const MAX_INTERVAL_SECONDS = 366 * 86_400;
/** Most buckets one request may span (per measure type), whatever holds data. */
export const MAX_BUCKETS = 10_000;

/** '90s', '1m', '6h', '7d' → seconds; an error message otherwise. */
export function parseInterval(text: string): number | string {
  const m = INTERVAL.exec(text);
  if (!m) return 'must be a whole number followed by s, m, h or d, e.g. 1m';
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  if (seconds < MIN_INTERVAL_SECONDS || seconds > MAX_INTERVAL_SECONDS) return 'must be from 1s to 366d';
  return seconds;
}

/** 'avg,max' → ['avg', 'max'] (duplicates dropped, order kept); an error message otherwise. */
export function parseFunctions(text: string): AggregateFunction[] | string {
  const names = text.split(',').map((s) => s.trim());
  const known = new Set<string>(AGGREGATE_FUNCTIONS);
  if (names.some((n) => !known.has(n))) return `must be a comma-separated list of ${AGGREGATE_FUNCTIONS.join(', ')}`;
  return [...new Set(names)] as AggregateFunction[];
}

/** How many interval-aligned buckets the half-open range [fromUs, toUs) touches (toUs > fromUs). */
export function bucketCount(fromUs: number, toUs: number, intervalSeconds: number): number {
  const width = intervalSeconds * 1_000_000;
  return Math.floor((toUs - 1) / width) - Math.floor(fromUs / width) + 1;
}
