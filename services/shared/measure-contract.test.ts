import fc from 'fast-check';
import { decodeMeasureMessage, microsToIso, microsToSql, timestampToMicros, toWire } from './measure-contract';

const base = { experiment: 'device-vibrations', measure: 'hertz', value: 12.5 };

describe('timestampToMicros', () => {
  it.each([
    [1700000000, 1700000000000000],
    [1700000000.123456, 1700000000123456],
    [1700000000123, 1700000000123000], // above 10^11: milliseconds
    ['2023-11-14T22:13:20Z', 1700000000000000],
    ['2023-11-14T23:13:20.5+01:00', 1700000000500000],
    ['2023-11-14T22:13:20.123456789Z', 1700000000123456],
    ['2023-11-14T20:13:20.000001-0200', 1700000000000001],
  ])('%p → %p µs', (input, expected) => {
    expect(timestampToMicros(input)).toBe(expected);
  });

  it.each(['2023-11-14T22:13:20', '2023-02-29T00:00:00Z', '2023-11-14', 'yesterday', '2023-13-01T00:00:00Z', -1, 1e20])(
    'rejects %p',
    (input) => {
      expect(typeof timestampToMicros(input)).toBe('string');
    },
  );
});

describe('decodeMeasureMessage', () => {
  it('decodes the original single-measure format', () => {
    const d = decodeMeasureMessage(Buffer.from(JSON.stringify({ ...base, timestamp: 1700000000 })));
    expect(d.rejections).toEqual([]);
    expect(d.measures).toEqual([{ ...base, timestampUs: 1700000000000000, source: '' }]);
  });

  it('judges each element of an array alone and keeps its raw text', () => {
    const body = JSON.stringify([
      { ...base, timestamp: 1, source: 's1' },
      { ...base, value: 'abc', timestamp: 2 },
      { ...base, timestamp: 3 },
    ]);
    const d = decodeMeasureMessage(body);
    expect(d.measures.map((m) => m.timestampUs)).toEqual([1e6, 3e6]);
    expect(d.rejections).toHaveLength(1);
    expect(d.rejections[0]).toMatchObject({ reason: 'invalid_measure' });
    expect(d.rejections[0].detail).toMatch(/^\[1\] value: must be a finite number/);
    expect(JSON.parse(d.rejections[0].raw)).toEqual({ ...base, value: 'abc', timestamp: 2 });
    expect(JSON.parse(d.rawOf(1))).toEqual({ ...base, timestamp: 3 });
  });

  it('names every missing field', () => {
    const d = decodeMeasureMessage('{}');
    expect(d.rejections[0].detail).toBe(
      'experiment: is required; measure: is required; value: is required; timestamp: is required',
    );
  });

  it('rejects an overlong source and an empty array', () => {
    expect(decodeMeasureMessage(JSON.stringify({ ...base, timestamp: 1, source: 'x'.repeat(65) })).rejections[0].detail).toBe(
      'source: must be at most 64 characters',
    );
    expect(decodeMeasureMessage('[]').rejections[0].detail).toBe('message: empty array');
  });

  it('keeps undecodable bodies whole as invalid_json', () => {
    const d = decodeMeasureMessage('{"experiment": ');
    expect(d.measures).toEqual([]);
    expect(d.rejections).toEqual([{ reason: 'invalid_json', detail: expect.any(String), raw: '{"experiment": ' }]);
  });

  it('never throws and accounts for every element of random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.array(fc.jsonValue(), { maxLength: 20 }).map((a) => JSON.stringify(a))), (text) => {
        const d = decodeMeasureMessage(text);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return d.rejections.length === 1 && d.rejections[0].reason === 'invalid_json' && d.measures.length === 0;
        }
        const expected = Array.isArray(parsed) ? Math.max(parsed.length, 1) : 1;
        return d.measures.length + d.rejections.length === expected;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('time formatting', () => {
  it('formats microseconds for MySQL and ISO-8601', () => {
    expect(microsToSql(1700000000000001)).toBe('2023-11-14 22:13:20.000001');
    expect(microsToIso(1700000000123456)).toBe('2023-11-14T22:13:20.123456Z');
    expect(microsToSql(0)).toBe('1970-01-01 00:00:00.000000');
  });

  it('round-trips any measure through its wire form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) - 1 }), fc.integer({ min: 0, max: 999 }), (ms, extra) => {
        const us = ms * 1000 + extra;
        const wire = toWire({ experiment: 'e', measure: 'm', value: 1, timestampUs: us, source: '' });
        return timestampToMicros(wire.timestamp) === us;
      }),
    );
  });
});
