import type { MeasureRecord } from '../../../db/src/repositories/records';
import { measureJsonText, sqlToIso } from './presenters';

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

/** Names repeat on every row of an export; their quoted forms are worked out once. */
const MAX_MEMO = 4096;
const csvMemo = new Map<string, string>();

function csvName(text: string): string {
  let out = csvMemo.get(text);
  if (out === undefined) {
    if (csvMemo.size >= MAX_MEMO) csvMemo.clear();
    out = csvField(text);
    csvMemo.set(text, out);
  }
  return out;
}

export function csvLine(m: MeasureRecord): string {
  return `${csvName(m.experimentName)},${csvName(m.measureTypeName)},${sqlToIso(m.ts)},${m.value},${csvName(m.source)}\r\n`;
}

export function ndjsonLine(m: MeasureRecord): string {
  return `${measureJsonText(m)}\n`;
}

/** Groups lines into chunks of about `bytes`, so a large export is not one write per row. */
export async function* chunked(
  batches: AsyncIterable<readonly MeasureRecord[]>,
  line: (m: MeasureRecord) => string,
  head = '',
  bytes = 64 * 1024,
): AsyncGenerator<string> {
  let buffer = head;
  for await (const batch of batches) {
    for (const m of batch) buffer += line(m);
    if (buffer.length >= bytes) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}


