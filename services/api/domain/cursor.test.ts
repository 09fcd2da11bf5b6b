import fc from 'fast-check';
import { ValidationError } from '../../shared/errors';
import { decodeIdCursor, decodeMeasureCursor, encodeIdCursor, encodeMeasureCursor } from './cursor';

describe('measure cursors', () => {
  it('round-trip any key, as URL-safe text', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date(253402300799000), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.string({ maxLength: 64 }),
        (d, us, measureTypeId, source) => {
          const ts = `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 23)}${String(us).padStart(3, '0')}`;
          const cursor = encodeMeasureCursor({ ts, measureTypeId, source });
          expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeMeasureCursor(cursor)).toEqual({ ts, measureTypeId, source });
        },
      ),
    );
  });

  it.each([
    ['not base64 at all', '!!!'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['another kind', encodeIdCursor('a', '12')],
    ['a bad timestamp', Buffer.from(JSON.stringify(['m', '2022-04-06', 1, ''])).toString('base64url')],
    ['a negative type id', Buffer.from(JSON.stringify(['m', '2022-04-06 07:00:00.000000', -1, ''])).toString('base64url')],
    ['extra parts', Buffer.from(JSON.stringify(['m', '2022-04-06 07:00:00.000000', 1, '', 'x'])).toString('base64url')],
    ['an oversized cursor', 'A'.repeat(600)],
  ])('refuse %s with a ValidationError naming the cursor', (_what, cursor) => {
    expect(() => decodeMeasureCursor(cursor)).toThrow(ValidationError);
    try {
      decodeMeasureCursor(cursor);
    } catch (err) {
      expect((err as ValidationError).errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    }
  });
});

describe('id cursors', () => {
  it('round-trip and refuse cursors of another listing', () => {
    const c = encodeIdCursor('r', '9007199254740993');
    expect(decodeIdCursor('r', c)).toBe('9007199254740993');
    expect(() => decodeIdCursor('a', c)).toThrow(ValidationError);
    expect(() => decodeIdCursor('r', Buffer.from(JSON.stringify(['r', '1; DROP TABLE'])).toString('base64url'))).toThrow(ValidationError);
  });
});
