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
  readonly rejections: readonly Rejection[];
  /** The raw text of measures[i], for a rejection decided later (e.g. an unknown experiment). */
  rawOf(i: number): string;
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

/** Most distinct names interned before the table starts over (bounds its memory). */
const MAX_INTERNED = 10_000;
const interned = new Map<string, string>();

/**
 * One copy of each name: every message parses its own copies of the same few experiment, measure
 * and source names, and ingest holds up to prefetch messages until their batch is committed, so
 * sharing one copy leaves the parsed ones to be collected young.
 */
function intern(name: string): string {
  const known = interned.get(name);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(name, name);
  return name;
}

/**
 * The contract's reading of a measure that is plainly valid, without zod: ingest judges every
 * measure it receives, and the schema costs several times this check. Anything this does not
 * accept outright goes through measureWireSchema, so the schema alone decides every rejection and
 * words its reason; what this accepts, the schema accepts with the same result (strings trimmed
 * before their length checks, unknown keys ignored, numbers finite).
 */
function plainlyValid(element: unknown): Measure | undefined {
  if (typeof element !== 'object' || element === null || Array.isArray(element)) return undefined;
  const { experiment, measure, value, timestamp, source } = element as Record<string, unknown>;
  if (typeof experiment !== 'string' || typeof measure !== 'string') return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (typeof timestamp !== 'number' && typeof timestamp !== 'string') return undefined;
  if (source !== undefined && (typeof source !== 'string' || source.length > MAX_SOURCE_LENGTH)) return undefined;
  const e = experiment.trim();
  const m = measure.trim();
  if (e.length === 0 || e.length > MAX_EXPERIMENT_NAME_LENGTH || m.length === 0 || m.length > MAX_MEASURE_NAME_LENGTH) {
    return undefined;
  }
  const ts = timestampToMicros(timestamp);
  if (typeof ts === 'string') return undefined;
  return { experiment: intern(e), measure: intern(m), value, timestampUs: ts, source: source ? intern(source) : '' };
}

/** Judges one element: the measure, or why it is invalid. */
function judge(element: unknown): Measure | string {
  const fast = plainlyValid(element);
  if (fast) return fast;
  const parsed = measureWireSchema.safeParse(element);
  if (!parsed.success) return describeIssues(parsed.error.issues);
  const w = parsed.data;
  const ts = timestampToMicros(w.timestamp);
  if (typeof ts === 'string') return `timestamp: ${ts}`;
  return { experiment: w.experiment, measure: w.measure, value: w.value, timestampUs: ts, source: w.source ?? '' };
}

/** Judges one element of a message; `raw` is the text kept if it is rejected. */
export function judgeMeasure(element: unknown, raw: () => string): Measure | Rejection {
  const judged = judge(element);
  return typeof judged === 'string' ? { reason: 'invalid_measure', detail: judged, raw: clip(raw()) } : judged;
}

export function isRejection(x: Measure | Rejection): x is Rejection {
  return (x as Rejection).reason !== undefined;
}

const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

/**
 * A decoded body. It keeps the body's text rather than its parsed form: ingest holds a message
 * until its batch is committed, and the text is one small object where the parsed tree is many.
 * The raw form of a measure is rarely asked for (a rejection decided later), and parsing the same
 * text again gives the same elements.
 */
class DecodedBody implements DecodedMessage {
  private elements: unknown[] | undefined;

  constructor(
    readonly measures: Measure[],
    readonly rejections: readonly Rejection[],
    private readonly text: string,
    /** An array body: measures[i] is element elementOf[i], or element i when elementOf is unset. */
    private readonly isArray: boolean,
    private readonly elementOf: readonly number[] | undefined,
  ) {}

  rawOf(i: number): string {
    if (!this.isArray) return clip(this.text);
    this.elements ??= JSON.parse(this.text) as unknown[];
    return clip(JSON.stringify(this.elements[this.elementOf ? this.elementOf[i] : i]));
  }
}

/** Decodes one AMQP body into the measures it carries and the rejections of what it cannot. */
export function decodeMeasureMessage(body: Buffer | string): DecodedMessage {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const rejection: Rejection = { reason: 'invalid_json', detail: (err as Error).message, raw: clip(text) };
    return new DecodedBody([], [rejection], text, false, undefined);
  }
  const measures: Measure[] = [];
  if (Array.isArray(doc)) {
    const rejections: Rejection[] = [];
    if (doc.length > MAX_MEASURES_PER_MESSAGE) {
      rejections.push({
        reason: 'invalid_measure',
        detail: `message: holds ${doc.length} measures, at most ${MAX_MEASURES_PER_MESSAGE} are allowed`,
        raw: clip(text),
      });
      return new DecodedBody(measures, rejections, text, false, undefined);
    }
    if (doc.length === 0) {
      rejections.push({ reason: 'invalid_measure', detail: 'message: empty array', raw: text });
    }
    const elements: unknown[] = doc;
    // elementOf[i] is the array index of measures[i]; only needed once an element was rejected.
    let elementOf: number[] | undefined;
    for (let index = 0; index < elements.length; index++) {
      const element = elements[index];
      const judged = judge(element);
      if (typeof judged === 'string') {
        const raw = clip(JSON.stringify(element) ?? String(element));
        rejections.push({ reason: 'invalid_measure', detail: `[${index}] ${judged}`, raw });
        elementOf ??= measures.map((_, i) => i);
      } else {
        measures.push(judged);
        elementOf?.push(index);
      }
    }
    return new DecodedBody(measures, rejections.length ? rejections : NO_REJECTIONS, text, true, elementOf);
  }
  const judged = judgeMeasure(doc, () => text);
  if (isRejection(judged)) return new DecodedBody(measures, [judged], text, false, undefined);
  measures.push(judged);
  return new DecodedBody(measures, NO_REJECTIONS, text, false, undefined);
}

/** The last whole second microsToSql formatted, and its text: measures come in bursts of one second. */
let lastSecond = Number.NaN;
let lastSecondText = '';

/** Microseconds since the epoch to MySQL DATETIME(6) text in UTC. */
export function microsToSql(us: number): string {
  if (Number.isInteger(us) && us >= 0) {
    const second = Math.floor(us / 1_000_000);
    if (second !== lastSecond) {
      const iso = new Date(second * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
      // Years past 9999 make a longer ISO text; leave those to the general path below.
      if (iso.length !== 24) return microsToSqlSlow(us);
      lastSecondText = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
      lastSecond = second;
    }
    const micro = us - second * 1_000_000;
    return lastSecondText + (micro >= 100_000 ? `${micro}` : `${micro + 1_000_000}`.slice(1));
  }
  return microsToSqlSlow(us);
}

function microsToSqlSlow(us: number): string {
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
