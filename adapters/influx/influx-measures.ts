import { MAX_EXPERIMENT_NAME_LENGTH, MAX_MEASURE_NAME_LENGTH, MAX_SOURCE_LENGTH } from '../../services/shared/measure-contract';
import type { Measure } from '../../services/shared/measure-contract';
import type { Point } from './line-protocol';

/**
 * How a line-protocol point becomes measures (DESIGN §3.1):
 * - experiment: the v1 database (`db`) or the v2 bucket;
 * - measure type: the field key, or with naming `measurement.field` "<measurement>.<field key>";
 *   with the default naming the line's measurement name is not stored;
 * - value: floats, integers and unsigned integers as numbers (beyond 2^53 the nearest double),
 *   booleans as 1 and 0; a string field is not stored and is reported for its line;
 * - source: the `source` tag when present, otherwise the tag set as "k=v" pairs sorted by key and
 *   joined with ",", cut to 64 characters ("" without tags);
 * - timestamp: the line's, in the request's precision, truncated to microseconds; the time the
 *   request arrived when the line has none.
 */

export type MeasureNaming = 'field' | 'measurement.field';
export const MEASURE_NAMINGS: readonly MeasureNaming[] = ['field', 'measurement.field'];

/** v1 takes n|ns|u|µ|us|ms|s|m|h (default ns); v2 takes ns|us|ms|s (default ns). */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const V1_PRECISIONS: Readonly<Record<string, Precision>> = { n: 'ns', ns: 'ns', u: 'us', '\u00b5': 'us', '\u03bc': 'us', us: 'us', ms: 'ms', s: 's', m: 'm', h: 'h' };
const V2_PRECISIONS: Readonly<Record<string, Precision>> = { ns: 'ns', us: 'us', ms: 'ms', s: 's' };

export function parsePrecision(text: string | null, api: 'v1' | 'v2'): Precision | undefined {
  if (text === null || text === '') return 'ns';
  const table = api === 'v1' ? V1_PRECISIONS : V2_PRECISIONS;
  return Object.hasOwn(table, text) ? table[text] : undefined;
}

/** Microseconds per unit of each precision above microseconds. */
const US_PER_UNIT: Readonly<Record<Exclude<Precision, 'ns' | 'us'>, number>> = { ms: 1e3, s: 1e6, m: 6e7, h: 3.6e9 };

/** A line-protocol timestamp to microseconds since the epoch, or why it cannot be stored. */
export function timestampToMicros(digits: string, precision: Precision): number | string {
  if (digits.startsWith('-')) return 'timestamps before 1970-01-01 cannot be stored';
  let us: number;
  if (precision === 'ns') us = digits.length > 3 ? Number(digits.slice(0, -3)) : 0;
  else if (precision === 'us') us = Number(digits);
  else us = Number(digits) * US_PER_UNIT[precision];
  if (!Number.isSafeInteger(us)) return 'timestamp after 2255-06-05 cannot be stored';
  return us;
}

/** Why an experiment name (database or bucket) cannot be used, or undefined. */
export function experimentProblem(name: string): string | undefined {
  if (name.trim() === '') return 'must not be empty';
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) return `must be at most ${MAX_EXPERIMENT_NAME_LENGTH} characters`;
  return undefined;
}

export interface MappingContext {
  readonly experiment: string;
  readonly precision: Precision;
  /** When the request arrived, microseconds since the epoch: the timestamp of lines without one. */
  readonly receivedAtUs: number;
  readonly naming: MeasureNaming;
}

export interface MappedPoint {
  readonly measures: Measure[];
  /** What of the line was not stored, and why (the rest of the line was). */
  readonly problems: string[];
}

function sourceOf(tags: Point['tags']): string {
  let explicit: string | undefined;
  for (const [k, v] of tags) if (k === 'source') explicit = v;
  if (explicit !== undefined) return explicit;
  if (tags.length === 0) return '';
  let sorted = tags;
  for (let i = 1; i < tags.length; i++) {
    if (tags[i - 1][0] > tags[i][0]) {
      sorted = [...tags].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      break;
    }
  }
  let out = '';
  for (const [k, v] of sorted) {
    out += out === '' ? `${k}=${v}` : `,${k}=${v}`;
    if (out.length >= MAX_SOURCE_LENGTH) break;
  }
  return out.slice(0, MAX_SOURCE_LENGTH);
}

export function pointToMeasures(point: Point, ctx: MappingContext): MappedPoint {
  const measures: Measure[] = [];
  const problems: string[] = [];
  let timestampUs = ctx.receivedAtUs;
  if (point.timestamp !== undefined) {
    const us = timestampToMicros(point.timestamp, ctx.precision);
    if (typeof us === 'string') return { measures, problems: [us] };
    timestampUs = us;
  }
  const hasExplicitSource = point.tags.some(([k]) => k === 'source');
  const source = sourceOf(point.tags);
  if (hasExplicitSource && source.length > MAX_SOURCE_LENGTH) {
    return { measures, problems: [`tag "source" must be at most ${MAX_SOURCE_LENGTH} characters`] };
  }
  for (const [key, field] of point.fields) {
    const measure = ctx.naming === 'field' ? key : `${point.measurement}.${key}`;
    if (measure.trim() === '' || measure.length > MAX_MEASURE_NAME_LENGTH) {
      problems.push(`field "${key}": the measure type name "${measure}" must be 1 to ${MAX_MEASURE_NAME_LENGTH} characters`);
      continue;
    }
    let value: number;
    if (field.type === 'string') {
      problems.push(`field "${key}": string values are not stored (only numbers and booleans)`);
      continue;
    } else if (field.type === 'boolean') {
      value = field.value ? 1 : 0;
    } else {
      value = field.value;
    }
    measures.push({ experiment: ctx.experiment, measure, value, timestampUs, source });
  }
  return { measures, problems };
}
