import type { Api } from './api';
import { h } from './dom';
import { list, measure, num, numOrNull, obj, str } from './models';
import type { Measure } from './models';
import type { Interval } from './series';
import { lines } from './sse';

/** Reads of one experiment's measures for the experiment view. */

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Streams the measures of [from, to) as NDJSON (one request, rows in time order) into `onMeasure`.
 * Stops reading, which cancels the request and the query behind it, after `limit` rows; returns
 * how many were read and whether there were more.
 */
export async function readRaw(
  api: Api,
  experimentId: number,
  from: number,
  to: number,
  limit: number,
  signal: AbortSignal,
  onMeasure: (m: Measure) => void,
): Promise<{ count: number; truncated: boolean }> {
  const res = await api.send('GET', `/measures/${experimentId}`, { accept: 'application/x-ndjson', query: { from: iso(from), to: iso(to) }, signal });
  if (!res.body) return { count: 0, truncated: false };
  let count = 0;
  for await (const line of lines(res.body)) {
    if (line === '') continue;
    if (count === limit) return { count, truncated: true };
    onMeasure(measure(JSON.parse(line) as unknown));
    count += 1;
  }
  return { count, truncated: false };
}

export interface Bucket {
  readonly measureType: string;
  /** Start of the bucket, epoch ms. */
  readonly start: number;
  readonly avg: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly count: number;
}

function bucket(v: unknown): Bucket {
  const o = obj(v, 'aggregate bucket');
  const start = Date.parse(str(o, 'bucket'));
  if (Number.isNaN(start)) throw new Error('The API sent an aggregate bucket without a valid start time.');
  return { measureType: str(o, 'measure_type'), start, avg: numOrNull(o, 'avg'), min: numOrNull(o, 'min'), max: numOrNull(o, 'max'), count: num(o, 'count') };
}

/** avg/min/max/count per measure type and interval, computed by the database. */
export function readAggregate(api: Api, experimentId: number, from: number, to: number, interval: Interval, signal: AbortSignal): Promise<Bucket[]> {
  return api.get(`/measures/${experimentId}/aggregate`, (v) => list(v, 'aggregate', bucket), {
    query: { from: iso(from), to: iso(to), interval: interval.label, fn: 'avg,min,max,count' },
    signal,
  });
}

function stamp(ms: number): string {
  return iso(ms).replace(/[-:]|\.\d+/g, '');
}

/**
 * Downloads [from, to) as CSV. The API needs the Authorization header, which a plain link cannot
 * send, so the file is fetched and handed to the browser as a Blob. Returns its size in bytes.
 */
export async function downloadCsv(api: Api, experimentId: number, name: string, from: number, to: number, signal: AbortSignal): Promise<number> {
  const res = await api.send('GET', `/measures/${experimentId}`, { accept: 'text/csv', query: { from: iso(from), to: iso(to) }, signal });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}_${stamp(from)}_${stamp(to)}.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not now: the browser may still be reading the Blob for the download.
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob.size;
}
