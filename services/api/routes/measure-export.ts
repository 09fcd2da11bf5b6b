import type { MeasureRecord } from '../../../db/src/repositories/records';
import { MAX_NUMBER_BYTES, writeNumber } from './number-bytes';
import { ISO_TIMESTAMP_EXTRA_BYTES, measuresNdjson, writeIsoTimestamp } from './presenters';

/** Line formats of the streamed measure export (GET /measures/{id} with Accept: text/csv or NDJSON). */

export const CSV_TYPE = 'text/csv';
export const NDJSON_TYPE = 'application/x-ndjson';

export const CSV_HEADER = 'experiment,measure_type,timestamp,value,source\r\n';

/**
 * RFC 4180 quoting. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets
 * a leading apostrophe: experiment names and sources come from devices and users, not from us.
 */
export function csvField(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Names repeat on every row of an export; their quoted forms are encoded once. */
const MAX_MEMO = 4096;
const csvMemo = new Map<string, Buffer>();

function csvName(text: string): Buffer {
  let out = csvMemo.get(text);
  if (out === undefined) {
    if (csvMemo.size >= MAX_MEMO) csvMemo.clear();
    out = Buffer.from(csvField(text), 'utf8');
    csvMemo.set(text, out);
  }
  return out;
}

const COMMA = 0x2c;
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * CSV lines of measures (experiment, measure_type, timestamp, value, source) as UTF-8 bytes written
 * straight into one buffer, as measuresJson writes a page: names from their encoded forms, the
 * timestamp copied from the database's text, the value's digits written in place. Building each
 * line as a string made String(value) for every row, which V8 keeps in the old generation.
 */
export function csvLines(rows: readonly MeasureRecord[]): Buffer {
  const experimentOf: Buffer[] = new Array<Buffer>(rows.length);
  const typeOf: Buffer[] = new Array<Buffer>(rows.length);
  const sourceOf: Buffer[] = new Array<Buffer>(rows.length);
  let size = 0;
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i];
    experimentOf[i] = csvName(m.experimentName);
    typeOf[i] = csvName(m.measureTypeName);
    sourceOf[i] = csvName(m.source);
    // Four commas, the timestamp, the value, CRLF.
    size += experimentOf[i].length + typeOf[i].length + sourceOf[i].length + 4 + m.ts.length + ISO_TIMESTAMP_EXTRA_BYTES + MAX_NUMBER_BYTES + 2;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i];
    out.set(experimentOf[i], at);
    at += experimentOf[i].length;
    out[at++] = COMMA;
    out.set(typeOf[i], at);
    at += typeOf[i].length;
    out[at++] = COMMA;
    at += writeIsoTimestamp(out, at, m.ts);
    out[at++] = COMMA;
    at += writeNumber(out, at, m.value);
    out[at++] = COMMA;
    out.set(sourceOf[i], at);
    at += sourceOf[i].length;
    out.set(CRLF, at);
    at += 2;
  }
  return out.subarray(0, at);
}

/** NDJSON lines of measures: the objects of the JSON API, one per line. */
export const ndjsonLines = measuresNdjson;

/** Groups encoded batches into chunks of about `bytes`, so a large export is not one write per batch. */
export async function* chunked(
  batches: AsyncIterable<readonly MeasureRecord[]>,
  encode: (rows: readonly MeasureRecord[]) => Buffer,
  head = '',
  bytes = 64 * 1024,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = head === '' ? [] : [Buffer.from(head, 'utf8')];
  let size = pending.length === 0 ? 0 : pending[0].length;
  for await (const batch of batches) {
    const encoded = encode(batch);
    if (encoded.length === 0) continue;
    pending.push(encoded);
    size += encoded.length;
    if (size >= bytes) {
      yield pending.length === 1 ? pending[0] : Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield pending.length === 1 ? pending[0] : Buffer.concat(pending, size);
}
