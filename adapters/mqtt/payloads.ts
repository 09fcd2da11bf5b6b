import { isRejection, judgeMeasure, microsToIso } from '../../services/shared/measure-contract';
import type { Measure } from '../../services/shared/measure-contract';

/**
 * Payload formats of the MQTT bridge.
 *
 * mymonit: topic `…/<experiment>/<source>/<measure>` (the last three levels); payload a number
 * (`12.5`) or JSON `{"value": 12.5, "timestamp": 1700000000}` where timestamp follows the measure
 * contract (epoch seconds, epoch milliseconds above 10^11, or ISO-8601 with an offset) and
 * defaults to the time the bridge received the message.
 *
 * thingsboard: the ThingsBoard device telemetry API, experiment and source configured per
 * subscription: `{"temperature": 22.5, "humidity": 40}` (received time), `{"ts": 1451649600512,
 * "values": {…}}` (ts in ms), or an array of either. Numbers, booleans (1/0) and numeric strings
 * become measures named by their key; any other value is reported and skipped.
 */

export interface Decoded {
  readonly measures: Measure[];
  /** What could not become a measure; the message is still acknowledged. */
  readonly problems: string[];
  /** Every measure carries the time the device gave it (not the time the bridge received it). */
  readonly stamped: boolean;
}

export type PayloadFormat = 'mymonit' | 'thingsboard';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** A bad message is logged with this much of its payload. */
export const PAYLOAD_EXCERPT_CHARS = 200;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function judge(wire: Record<string, unknown>, problems: string[], where: string, measures: Measure[]): void {
  const judged = judgeMeasure(wire, () => '');
  if (isRejection(judged)) problems.push(`${where}${judged.detail}`);
  else measures.push(judged);
}

/** The payload as text, or a problem: MQTT payloads are bytes. */
function textOf(payload: Buffer): string | undefined {
  const text = payload.toString('utf8');
  // A replacement character that was not in the bytes means they were not UTF-8.
  return text.includes('\ufffd') && !payload.includes(Buffer.from('\ufffd')) ? undefined : text;
}

const bad = (problem: string): Decoded => ({ measures: [], problems: [problem], stamped: false });

export function decodeMymonit(topic: string, payload: Buffer, receivedUs: number): Decoded {
  const levels = topic.split('/');
  if (levels.length < 3) return bad('topic: needs at least three levels …/<experiment>/<source>/<measure>');
  const [experiment, source, measure] = levels.slice(-3);
  const text = textOf(payload)?.trim();
  if (text === undefined) return bad('payload: not UTF-8 text');
  if (text === '') return bad('payload: empty');
  const problems: string[] = [];
  const measures: Measure[] = [];
  const received = microsToIso(receivedUs);
  if (NUMBER.test(text)) {
    judge({ experiment, source, measure, value: Number(text), timestamp: received }, problems, '', measures);
    return { measures, problems, stamped: false };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return bad('payload: neither a number nor JSON');
  }
  if (!isObject(doc)) return bad('payload: JSON must be an object {"value": …, "timestamp": …}');
  judge({ experiment, source, measure, value: doc.value, timestamp: doc.timestamp ?? received }, problems, '', measures);
  return { measures, problems, stamped: doc.timestamp !== undefined };
}

function telemetryValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && NUMBER.test(v.trim())) return Number(v.trim());
  return undefined;
}

export function decodeThingsBoard(payload: Buffer, experiment: string, source: string, receivedUs: number): Decoded {
  const text = textOf(payload);
  if (text === undefined) return bad('payload: not UTF-8 text');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return bad('payload: not JSON');
  }
  const problems: string[] = [];
  const measures: Measure[] = [];
  let stamped = true;
  const entries = Array.isArray(doc) ? doc : [doc];
  if (entries.length === 0) problems.push('payload: empty array');
  entries.forEach((entry, i) => {
    const where = Array.isArray(doc) ? `[${i}] ` : '';
    if (!isObject(entry)) {
      problems.push(`${where}must be an object of telemetry values`);
      return;
    }
    let timestamp = microsToIso(receivedUs);
    let values: Record<string, unknown> = entry;
    if ('ts' in entry || 'values' in entry) {
      if (!isObject(entry.values)) {
        problems.push(`${where}values: must be an object`);
        return;
      }
      // ThingsBoard's ts is always milliseconds, whatever its size.
      if (typeof entry.ts !== 'number' || !(entry.ts >= 0 && entry.ts * 1000 <= Number.MAX_SAFE_INTEGER)) {
        problems.push(`${where}ts: must be epoch milliseconds`);
        return;
      }
      timestamp = microsToIso(Math.round(entry.ts * 1000));
      values = entry.values;
    } else {
      stamped = false;
    }
    const keys = Object.keys(values);
    if (keys.length === 0) problems.push(`${where}no values`);
    for (const key of keys) {
      const value = telemetryValue(values[key]);
      if (value === undefined) {
        problems.push(`${where}${key}: must be a number, boolean or numeric string`);
        continue;
      }
      judge({ experiment, source, measure: key, value, timestamp }, problems, `${where}${key}: `, measures);
    }
  });
  return { measures, problems, stamped };
}
