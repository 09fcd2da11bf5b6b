import { z } from 'zod';

/**
 * The measure message contract (DESIGN §3.1). The body is one measure object or an array of up to
 * MAX_MEASURES_PER_MESSAGE; each element is judged alone, so one bad measure never costs its
 * neighbours.
 */

export const MAX_MEASURES_PER_MESSAGE = 10_000;
export const MAX_SOURCE_LENGTH = 64;
export const MAX_EXPERIMENT_NAME_LENGTH = 255;
export const MAX_MEASURE_NAME_LENGTH = 64;
/** Raw text kept per rejection; longer payloads are cut and say so in the detail. */
export const MAX_RAW_LENGTH = 1 << 20;

/** Numbers above this are milliseconds, below seconds (10^11 s is the year 5138). */
const MILLIS_THRESHOLD = 1e11;
/**
 * Timestamps are microseconds in a double, exact up to 2^53 µs: 2255-06-05. Later instants would
 * silently lose microseconds, so they are rejected (DATETIME itself would go on to 9999).
 */
const MAX_MICROS = Number.MAX_SAFE_INTEGER;

export type RejectionReason = 'invalid_json' | 'invalid_measure' | 'unknown_experiment' | 'unknown_measure_type';

export interface Measure {
  readonly experiment: string;
  readonly measure: string;
  readonly value: number;
  /** Microseconds since the epoch, UTC. */
  readonly timestampUs: number;
  readonly source: string;
}

export interface Rejection {
  readonly reason: RejectionReason;
  readonly detail: string;
  readonly raw: string;
}

export interface DecodedMessage {
  readonly measures: Measure[];
  readonly rejections: Rejection[];
  /** The raw text of measures[i], for a rejection decided later (e.g. an unknown experiment). */
  readonly rawOf: (i: number) => string;
}

/** The wire form of one measure, as adapters publish it. */
export interface MeasureWire {
  experiment: string;
  measure: string;
  value: number;
  timestamp: number | string;
  source?: string;
}

const required = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${expected}`;

export const measureWireSchema = z.object(
  {
    experiment: z
      .string({ error: required('a string') })
      .trim()
      .min(1, 'must not be empty')
      .max(MAX_EXPERIMENT_NAME_LENGTH, `must be at most ${MAX_EXPERIMENT_NAME_LENGTH} characters`),
    measure: z
      .string({ error: required('a string') })
      .trim()
      .min(1, 'must not be empty')
      .max(MAX_MEASURE_NAME_LENGTH, `must be at most ${MAX_MEASURE_NAME_LENGTH} characters`),
    value: z.number({ error: required('a finite number') }),
    timestamp: z.union([z.number(), z.string()], {
      error: required('epoch seconds, epoch milliseconds or an ISO-8601 string'),
    }),
    source: z
      .string({ error: 'must be a string' })
      .max(MAX_SOURCE_LENGTH, `must be at most ${MAX_SOURCE_LENGTH} characters`)
      .optional(),
  },
  { error: 'must be a JSON object' },
);

const ISO_8601 = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})$/;

/** Converts a contract timestamp to microseconds, or returns why it cannot. */
export function timestampToMicros(t: number | string): number | string {
  let us: number;
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) return 'must be a finite number';
    us = t > MILLIS_THRESHOLD ? Math.round(t * 1000) : Math.round(t * 1e6);
  } else {
    const m = ISO_8601.exec(t);
    if (!m) return 'must be epoch seconds, epoch milliseconds or an ISO-8601 date-time with an offset';
    const [y, mo, d] = m[1].split('-').map(Number);
    const [h, mi, se] = m[2].split(':').map(Number);
    if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || se > 59) {
      return 'is not a valid date-time';
    }
    const offset = m[4].length === 5 ? `${m[4].slice(0, 3)}:${m[4].slice(3)}` : m[4].toUpperCase();
    const ms = Date.parse(`${m[1]}T${m[2]}${offset}`);
    if (Number.isNaN(ms)) return 'is not a valid date-time';
    const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
    us = ms * 1000 + Number(frac);
  }
  if (us < 0 || us > MAX_MICROS) return 'must be between 1970-01-01 and 2255-06-05';
  return us;
}

function clip(raw: string): string {
  return raw.length > MAX_RAW_LENGTH ? raw.slice(0, MAX_RAW_LENGTH) : raw;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length ? i.path.join('.') : 'measure'}: ${i.message}`)
    .join('; ');
}

/** Judges one element of a message; `raw` is the text kept if it is rejected. */
export function judgeMeasure(element: unknown, raw: () => string): Measure | Rejection {
  const parsed = measureWireSchema.safeParse(element);
  if (!parsed.success) {
    return { reason: 'invalid_measure', detail: describeIssues(parsed.error.issues), raw: clip(raw()) };
  }
  const w = parsed.data;
  const ts = timestampToMicros(w.timestamp);
  if (typeof ts === 'string') return { reason: 'invalid_measure', detail: `timestamp: ${ts}`, raw: clip(raw()) };
  return { experiment: w.experiment, measure: w.measure, value: w.value, timestampUs: ts, source: w.source ?? '' };
}

export function isRejection(x: Measure | Rejection): x is Rejection {
  return (x as Rejection).reason !== undefined;
}

/** Decodes one AMQP body into the measures it carries and the rejections of what it cannot. */
export function decodeMeasureMessage(body: Buffer | string): DecodedMessage {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return {
      measures: [],
      rejections: [{ reason: 'invalid_json', detail: (err as Error).message, raw: clip(text) }],
      rawOf: () => clip(text),
    };
  }
  const measures: Measure[] = [];
  const rejections: Rejection[] = [];
  if (Array.isArray(doc)) {
    if (doc.length > MAX_MEASURES_PER_MESSAGE) {
      rejections.push({
        reason: 'invalid_measure',
        detail: `message: holds ${doc.length} measures, at most ${MAX_MEASURES_PER_MESSAGE} are allowed`,
        raw: clip(text),
      });
      return { measures, rejections, rawOf: () => clip(text) };
    }
    if (doc.length === 0) {
      rejections.push({ reason: 'invalid_measure', detail: 'message: empty array', raw: text });
    }
    const elements: unknown[] = doc;
    // elementOf[i] is the array index of measures[i]; only needed once an element was rejected.
    let elementOf: number[] | undefined;
    elements.forEach((element, index) => {
      const judged = judgeMeasure(element, () => JSON.stringify(element) ?? String(element));
      if (isRejection(judged)) {
        rejections.push({ ...judged, detail: `[${index}] ${judged.detail}` });
        elementOf ??= measures.map((_, i) => i);
      } else {
        measures.push(judged);
        elementOf?.push(index);
      }
    });
    const rawOf = (i: number): string => clip(JSON.stringify(elements[elementOf ? elementOf[i] : i]));
    return { measures, rejections, rawOf };
  }
  const judged = judgeMeasure(doc, () => text);
  if (isRejection(judged)) rejections.push(judged);
  else measures.push(judged);
  return { measures, rejections, rawOf: () => clip(text) };
}

/** Microseconds since the epoch to MySQL DATETIME(6) text in UTC. */
export function microsToSql(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const micro = us - ms * 1000;
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${micro < 10 ? '00' : micro < 100 ? '0' : ''}${micro}`;
}

/** Microseconds since the epoch to ISO-8601 UTC with microseconds. */
export function microsToIso(us: number): string {
  return `${microsToSql(us).replace(' ', 'T')}Z`;
}

/** The wire form an adapter publishes for a measure. */
export function toWire(m: Measure): MeasureWire {
  const wire: MeasureWire = {
    experiment: m.experiment,
    measure: m.measure,
    value: m.value,
    timestamp:
      m.timestampUs % 1000 === 0 && m.timestampUs / 1000 > MILLIS_THRESHOLD ? m.timestampUs / 1000 : microsToIso(m.timestampUs),
  };
  if (m.source) wire.source = m.source;
  return wire;
}
