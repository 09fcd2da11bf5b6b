import type { MeasureAggregateRecord } from '../../../db/src/repositories/measure-aggregate.repository';
import { microsToIso } from '../../shared/measure-contract';
import { MAX_NUMBER_BYTES, writeNumber } from './number-bytes';
import type {
  AssociationRecord,
  AuditRecord,
  ExperimentRecord,
  MeasureRecord,
  MeasureTypeRecord,
  RejectionRecord,
  UserRecord,
} from '../../../db/src/repositories/records';

/** JSON shapes of the API. Field names follow the original API where it had the resource. */

/** DATETIME(6) text (UTC) → ISO-8601 with microseconds, e.g. 2022-04-06T07:00:00.000000Z. */
export function sqlToIso(ts: string): string {
  // The common case, cheaply: every measure of an export goes through here.
  if (ts.length === 26 && ts.charCodeAt(10) === 32) return `${ts.slice(0, 10)}T${ts.slice(11)}Z`;
  const [date, time = '00:00:00'] = ts.split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date}T${hms}.${frac.padEnd(6, '0').slice(0, 6)}Z`;
}

export const userJson = (u: UserRecord) => ({
  user_id: u.id,
  name: u.name,
  username: u.username,
  email: u.email,
  role: u.role,
});

export const experimentJson = (e: ExperimentRecord) => ({ experiment_id: e.id, name: e.name });

/** Grouped by experiment id as the original did, with the experiment's name added. */
export function associationsJson(rows: readonly AssociationRecord[]) {
  const out: Record<string, { name: string; users: ReturnType<typeof userJson>[] }> = {};
  for (const r of rows) {
    (out[String(r.experimentId)] ??= { name: r.experimentName, users: [] }).users.push(userJson(r.user));
  }
  return out;
}

export const measureJson = (m: MeasureRecord) => ({
  experiment: m.experimentName,
  measure_type: m.measureTypeName,
  timestamp: sqlToIso(m.ts),
  value: m.value,
  source: m.source,
});

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let isoDay = NaN;
let isoDayText = '';

/**
 * Whole seconds since the epoch → ISO-8601 UTC with microseconds, as measure timestamps are
 * written. Aggregates write thousands of consecutive buckets: the date is worked out once a day.
 */
export function secondsToIso(seconds: number): string {
  const day = Math.floor(seconds / 86_400);
  if (day !== isoDay) {
    const iso = new Date(day * 86_400_000).toISOString(); // YYYY-MM-DDT00:00:00.000Z below year 10000
    if (iso.length !== 24) return microsToIso(seconds * 1_000_000);
    isoDay = day;
    isoDayText = iso.slice(0, 11);
  }
  const s = seconds - day * 86_400;
  return `${isoDayText}${TWO_DIGITS[Math.floor(s / 3600)]}:${TWO_DIGITS[Math.floor(s / 60) % 60]}:${TWO_DIGITS[s % 60]}.000000Z`;
}

/** Only the functions that were asked for are present. */
export function aggregateJson(a: MeasureAggregateRecord) {
  return {
    bucket: secondsToIso(a.bucketStartSeconds),
    measure_type: a.measureTypeName,
    ...(a.avg === undefined ? {} : { avg: a.avg }),
    ...(a.min === undefined ? {} : { min: a.min }),
    ...(a.max === undefined ? {} : { max: a.max }),
    ...(a.count === undefined ? {} : { count: a.count }),
  };
}

const MAX_MEMO = 4096;
const jsonMemo = new Map<string, string>();

/** JSON.stringify of a string, remembered: the same few names repeat on every row. */
export function jsonString(text: string): string {
  let out = jsonMemo.get(text);
  if (out === undefined) {
    if (jsonMemo.size >= MAX_MEMO) jsonMemo.clear();
    out = JSON.stringify(text);
    jsonMemo.set(text, out);
  }
  return out;
}

/**
 * JSON.stringify(measureJson(m)), built directly, for live events (pages and exports write bytes:
 * measuresJson, measuresNdjson). Values are finite doubles (the contract refuses others), whose JS
 * text is their JSON.
 */
export function measureJsonText(m: MeasureRecord): string {
  return (
    `{"experiment":${jsonString(m.experimentName)},"measure_type":${jsonString(m.measureTypeName)},` +
    `"timestamp":"${sqlToIso(m.ts)}","value":${m.value},"source":${jsonString(m.source)}}`
  );
}

const COMMA = 0x2c;
const SPACE = 0x20;
const LETTER_T = 0x54;
const LETTER_Z = 0x5a;

/** Most bytes writeIsoTimestamp writes beyond the length of the text it is given. */
export const ISO_TIMESTAMP_EXTRA_BYTES = 8;

/** sqlToIso(ts) as Latin-1 bytes at `at` (its text is ASCII); returns the number of bytes written. */
export function writeIsoTimestamp(out: Uint8Array, at: number, ts: string): number {
  if (ts.length === 26 && ts.charCodeAt(10) === SPACE) {
    // 'YYYY-MM-DD HH:MM:SS.ffffff' → 'YYYY-MM-DDTHH:MM:SS.ffffffZ', copied in place.
    for (let k = 0; k < 26; k++) out[at + k] = ts.charCodeAt(k);
    out[at + 10] = LETTER_T;
    out[at + 26] = LETTER_Z;
    return 27;
  }
  const iso = sqlToIso(ts);
  for (let k = 0; k < iso.length; k++) out[at + k] = iso.charCodeAt(k);
  return iso.length;
}

const AFTER_TIMESTAMP = Buffer.from('","value":', 'latin1');

/**
 * A JSON array of measures, as measureJsonText writes each, as UTF-8 bytes written straight into
 * one buffer. A page's rows share a few measure types and sources: the bytes before the timestamp
 * (per experiment and type) and after the value (per source) are made once per page, the
 * timestamp is copied in place from the database's text and the value's digits are written in
 * place (writeNumber). Joining strings instead allocated about 400 bytes a row that only lived
 * until the response was encoded, which made up a third of what a page request allocated and so
 * of the young-generation collections that pause every request in flight.
 *
 * The pieces are a few dozen bytes each, so they are copied with TypedArray#set and byte loops:
 * Buffer#copy and Buffer#write call into C++ and cost more per call than these copies do.
 */
export function measuresJson(rows: readonly MeasureRecord[]): Buffer {
  return measureObjects(rows, 'array');
}

/** The same objects as NDJSON: each on a line of its own (export chunks). */
export function measuresNdjson(rows: readonly MeasureRecord[]): Buffer {
  return measureObjects(rows, 'lines');
}

const NEWLINE = 0x0a;

function measureObjects(rows: readonly MeasureRecord[], framing: 'array' | 'lines'): Buffer {
  const heads = new Map<number, { experiment: string; bytes: Buffer }>();
  const tails = new Map<string, Buffer>();
  const headOf: Buffer[] = new Array<Buffer>(rows.length);
  const tailOf: Buffer[] = new Array<Buffer>(rows.length);
  let size = 2; // [ and ], or the last newline
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i];
    let head = heads.get(m.measureTypeId);
    if (head === undefined || head.experiment !== m.experimentName) {
      const text = `{"experiment":${jsonString(m.experimentName)},"measure_type":${jsonString(m.measureTypeName)},"timestamp":"`;
      head = { experiment: m.experimentName, bytes: Buffer.from(text, 'utf8') };
      heads.set(m.measureTypeId, head);
    }
    let tail = tails.get(m.source);
    if (tail === undefined) {
      tail = Buffer.from(`,"source":${jsonString(m.source)}}`, 'utf8');
      tails.set(m.source, tail);
    }
    headOf[i] = head.bytes;
    tailOf[i] = tail;
    // A comma (or newline), the head, the timestamp, the glue, the value, the tail.
    size += 1 + head.bytes.length + m.ts.length + ISO_TIMESTAMP_EXTRA_BYTES + AFTER_TIMESTAMP.length + MAX_NUMBER_BYTES + tail.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const array = framing === 'array';
  if (array) out[at++] = 0x5b; // [
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i];
    if (array && i > 0) out[at++] = COMMA;
    const head = headOf[i];
    out.set(head, at);
    at += head.length;
    at += writeIsoTimestamp(out, at, m.ts);
    out.set(AFTER_TIMESTAMP, at);
    at += AFTER_TIMESTAMP.length;
    at += writeNumber(out, at, m.value);
    const tail = tailOf[i];
    out.set(tail, at);
    at += tail.length;
    if (!array) out[at++] = NEWLINE;
  }
  if (array) out[at++] = 0x5d; // ]
  return out.subarray(0, at);
}

export const measureTypeJson = (t: MeasureTypeRecord) => ({
  measure_type_id: t.id,
  name: t.name,
  symbol: t.symbol,
  quantity: t.quantity,
});

export const rejectionJson = (r: RejectionRecord) => ({
  id: r.id,
  received_at: sqlToIso(r.receivedAt),
  reason: r.reason,
  detail: r.detail,
  message_id: r.messageId,
  raw: r.raw,
  raw_truncated: r.rawLength > r.raw.length,
});

export const auditJson = (a: AuditRecord) => ({
  id: a.id,
  occurred_at: sqlToIso(a.occurredAt),
  actor_id: a.actorId,
  actor_uid: a.actorUid,
  action: a.action,
  target_type: a.targetType,
  target_id: a.targetId,
  outcome: a.outcome,
  ip: a.ip,
  request_id: a.requestId,
  details: a.details,
});

/** RFC 8288 Link to the next page: the request's own path and query with the cursor replaced. */
export function nextLink(url: { path: string; search: URLSearchParams }, cursor: string): Record<string, string> {
  const search = new URLSearchParams(url.search);
  search.set('cursor', cursor);
  return { Link: `<${url.path}?${search.toString()}>; rel="next"` };
}
