import { ValidationError } from '../../shared/errors';
import type { MeasureKey } from '../../../db/src/repositories/records';

/**
 * Opaque page cursors: base64url of a small JSON array tagged with its kind, so a cursor from one
 * listing is refused by another. Clients must treat them as opaque; the format may change.
 */

const MAX_CURSOR_CHARS = 512;
const SQL_DATETIME6 = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;

function encode(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

function decode(cursor: string, kind: string): unknown[] {
  const invalid = new ValidationError('invalid cursor', [{ field: 'cursor', message: 'is not a cursor of this listing' }]);
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parts) || parts[0] !== kind) throw invalid;
  return parts.slice(1);
}

export function encodeMeasureCursor(k: MeasureKey): string {
  return encode(['m', k.ts, k.measureTypeId, k.source]);
}

export function decodeMeasureCursor(cursor: string): MeasureKey {
  const [ts, measureTypeId, source, ...rest] = decode(cursor, 'm');
  if (
    rest.length ||
    typeof ts !== 'string' ||
    !SQL_DATETIME6.test(ts) ||
    typeof measureTypeId !== 'number' ||
    !Number.isInteger(measureTypeId) ||
    measureTypeId < 0 ||
    typeof source !== 'string' ||
    source.length > 64
  ) {
    throw new ValidationError('invalid cursor', [{ field: 'cursor', message: 'is not a cursor of this listing' }]);
  }
  return { ts, measureTypeId, source };
}

/** Cursors of newest-first listings keyed by a numeric id (rejections, audit events). */
export function encodeIdCursor(kind: string, id: string): string {
  return encode([kind, id]);
}

export function decodeIdCursor(kind: string, cursor: string): string {
  const [id, ...rest] = decode(cursor, kind);
  if (rest.length || typeof id !== 'string' || !/^\d{1,20}$/.test(id)) {
    throw new ValidationError('invalid cursor', [{ field: 'cursor', message: 'is not a cursor of this listing' }]);
  }
  return id;
}
