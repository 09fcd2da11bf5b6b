import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { Measure } from '../../services/shared/measure-contract';

/**
 * The on-disk form of the adapter journal. A segment file is a sequence of records:
 *
 *   u32 LE  payload length in bytes
 *   u32 LE  CRC-32 of (the length field, the append time, the payload)
 *   f64 LE  append time, epoch milliseconds (for the "oldest unsent" metric)
 *   payload UTF-8 JSON array of measures, each [experiment, measure, value, timestampUs, source]
 *           (tuples rather than objects: half the bytes and half the time to serialise)
 *
 * A crash can leave a partly written ("torn") record at the end of the last segment; its CRC (or its
 * length running past the end of the file) gives it away and the journal truncates it on open.
 */

export const RECORD_HEADER_BYTES = 16;
/** A length field above this is corruption, whatever the journal's size. */
export const MAX_PAYLOAD_BYTES = 1 << 30;
const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** A place in the journal: a byte offset in a segment. Records start and end at positions. */
export interface Position {
  readonly segment: number;
  readonly offset: number;
}

export function comparePositions(a: Position, b: Position): number {
  return a.segment !== b.segment ? a.segment - b.segment : a.offset - b.offset;
}

export function segmentFileName(id: number): string {
  return `${String(id).padStart(16, '0')}.seg`;
}

/** The segment id of a file name, or undefined for other files. */
export function segmentIdOf(fileName: string): number | undefined {
  const m = SEGMENT_NAME.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

function recordCrc(record: Buffer, payloadLength: number): number {
  const lengthCrc = crc32(record.subarray(0, 4));
  return crc32(record.subarray(8, RECORD_HEADER_BYTES + payloadLength), lengthCrc);
}

/** One record, header and payload, in a single buffer. */
export function encodeRecord(measures: readonly Measure[], appendedAtMs: number): Buffer {
  const json = JSON.stringify(measures.map((m) => [m.experiment, m.measure, m.value, m.timestampUs, m.source]));
  const length = Buffer.byteLength(json);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + length);
  record.writeUInt32LE(length, 0);
  record.writeDoubleLE(appendedAtMs, 8);
  record.write(json, RECORD_HEADER_BYTES, 'utf8');
  record.writeUInt32LE(recordCrc(record, length), 4);
  return record;
}

export class JournalFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalFormatError';
  }
}

type MeasureTuple = [string, string, number, number, string];

function isMeasureTuple(x: unknown): x is MeasureTuple {
  return (
    Array.isArray(x) &&
    x.length === 5 &&
    typeof x[0] === 'string' &&
    typeof x[1] === 'string' &&
    typeof x[2] === 'number' &&
    typeof x[3] === 'number' &&
    typeof x[4] === 'string'
  );
}

/** The measures of a payload whose CRC matched. */
export function decodeMeasures(payload: Buffer): Measure[] {
  const doc: unknown = JSON.parse(payload.toString('utf8'));
  if (!Array.isArray(doc) || !doc.every(isMeasureTuple)) {
    throw new JournalFormatError('record payload is not an array of measures');
  }
  return doc.map(([experiment, measure, value, timestampUs, source]) => ({ experiment, measure, value, timestampUs, source }));
}

export interface RawRecord {
  readonly kind: 'record';
  readonly offset: number;
  /** Header and payload. */
  readonly size: number;
  readonly appendedAtMs: number;
  readonly payload: Buffer;
}

/** Where the valid records stop: the rest cannot be read as a record. */
export interface BadTail {
  readonly kind: 'torn' | 'corrupt';
  readonly offset: number;
  readonly why: string;
}

const MIN_CHUNK_BYTES = 1 << 20;

/**
 * Reads the records of a segment from `start` up to `end` in order, ending with a BadTail if the
 * bytes before `end` do not all form valid records. Reads in chunks of at least 1 MiB.
 */
export async function* readRecords(file: FileHandle, start: number, end: number, chunkBytes = MIN_CHUNK_BYTES): AsyncGenerator<RawRecord | BadTail> {
  let buf = Buffer.alloc(0);
  // File offset of buf[0].
  let bufStart = start;
  let offset = start;
  const fill = async (needed: number): Promise<boolean> => {
    const have = bufStart + buf.length;
    const want = Math.min(end - have, Math.max(chunkBytes, needed - (have - offset)));
    if (want <= 0) return false;
    const chunk = Buffer.allocUnsafe(want);
    const { bytesRead } = await file.read(chunk, 0, want, have);
    if (bytesRead === 0) return false;
    buf = Buffer.concat([buf.subarray(offset - bufStart), chunk.subarray(0, bytesRead)]);
    bufStart = offset;
    return true;
  };
  while (offset < end) {
    if (bufStart + buf.length - offset < RECORD_HEADER_BYTES && !(await fill(RECORD_HEADER_BYTES))) {
      yield { kind: 'torn', offset, why: 'incomplete record header at the end' };
      return;
    }
    if (bufStart + buf.length - offset < RECORD_HEADER_BYTES) continue;
    const at = offset - bufStart;
    const length = buf.readUInt32LE(at);
    const size = RECORD_HEADER_BYTES + length;
    if (length > MAX_PAYLOAD_BYTES) {
      yield { kind: 'corrupt', offset, why: `impossible record length ${length}` };
      return;
    }
    if (offset + size > end) {
      yield { kind: 'torn', offset, why: `record of ${size} bytes runs past the end (${end - offset} bytes left)` };
      return;
    }
    while (bufStart + buf.length - offset < size) {
      if (!(await fill(size))) {
        yield { kind: 'torn', offset, why: 'segment shorter than expected' };
        return;
      }
    }
    const rel = offset - bufStart;
    const record = buf.subarray(rel, rel + size);
    if (record.readUInt32LE(4) !== recordCrc(record, length)) {
      yield { kind: 'corrupt', offset, why: 'CRC mismatch' };
      return;
    }
    yield {
      kind: 'record',
      offset,
      size,
      appendedAtMs: record.readDoubleLE(8),
      payload: record.subarray(RECORD_HEADER_BYTES),
    };
    offset += size;
  }
}

/** The append time in the header at `offset`, or undefined if it cannot be read. */
export async function readAppendedAt(file: FileHandle, offset: number): Promise<number | undefined> {
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  const { bytesRead } = await file.read(header, 0, RECORD_HEADER_BYTES, offset);
  return bytesRead === RECORD_HEADER_BYTES ? header.readDoubleLE(8) : undefined;
}
