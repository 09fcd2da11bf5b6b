import type { MeasureRecord } from '../../../db/src/repositories/records';
import { measureJson } from './presenters';

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

export function csvLine(m: MeasureRecord): string {
  const j = measureJson(m);
  return `${csvField(j.experiment)},${csvField(j.measure_type)},${j.timestamp},${String(j.value)},${csvField(j.source)}\r\n`;
}

export function ndjsonLine(m: MeasureRecord): string {
  return `${JSON.stringify(measureJson(m))}\n`;
}

/** Groups lines into chunks of about `bytes`, so a large export is not one write per row. */
export async function* chunked(
  rows: AsyncIterable<MeasureRecord>,
  line: (m: MeasureRecord) => string,
  head = '',
  bytes = 64 * 1024,
): AsyncGenerator<string> {
  let buffer = head;
  for await (const m of rows) {
    buffer += line(m);
    if (buffer.length >= bytes) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}
