import { MAX_NUMBER_BYTES, writeNumber } from './number-bytes';

const out = Buffer.alloc(64);
const text = (v: number) => out.toString('latin1', 0, writeNumber(out, 0, v));

/** A small seeded generator, so a failure can be repeated. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const bits = new DataView(new ArrayBuffer(8));
function fromBits(hi: number, lo: number): number {
  bits.setUint32(0, hi);
  bits.setUint32(4, lo);
  return bits.getFloat64(0);
}
/** The next double away from zero (toward zero with step -1). */
function neighbour(v: number, step: 1 | -1): number {
  bits.setFloat64(0, v);
  const lo = bits.getUint32(4) + step;
  const hi = bits.getUint32(0) + (lo > 0xffffffff ? 1 : lo < 0 ? -1 : 0);
  return fromBits(hi, lo >>> 0);
}

function expectAllAsString(values: Iterable<number>): number {
  let checked = 0;
  const wrong: Array<[number, string, string]> = [];
  for (const v of values) {
    const got = text(v);
    if (got !== String(v) && wrong.length < 10) wrong.push([v, got, String(v)]);
    checked++;
  }
  expect(wrong).toEqual([]);
  return checked;
}

describe('writeNumber', () => {
  it('writes what String(v) writes for the values devices report: few decimals, any magnitude and sign', () => {
    const next = random(1);
    function* values() {
      for (let n = 0; n < 400_000; n++) {
        const decimals = Math.floor(next() * 11);
        const magnitude = 10 ** (Math.floor(next() * 22) - 6);
        const v = Math.round(next() * magnitude * 10 ** decimals) / 10 ** decimals;
        yield next() < 0.5 ? -v : v;
      }
    }
    expect(expectAllAsString(values())).toBe(400_000);
  });

  it('writes what String(v) writes for doubles of every bit pattern', () => {
    const next = random(2);
    function* values() {
      for (let n = 0; n < 400_000; n++) {
        const v = fromBits(Math.floor(next() * 2 ** 32), Math.floor(next() * 2 ** 32));
        if (Number.isFinite(v)) yield v;
      }
    }
    expect(expectAllAsString(values())).toBeGreaterThan(399_000);
  });

  it('writes what String(v) writes next to short decimals, where one ulp decides between a short text and a long one', () => {
    const next = random(3);
    function* values() {
      for (let n = 0; n < 100_000; n++) {
        const decimals = Math.floor(next() * 9);
        const v = Math.round(next() * 10 ** (Math.floor(next() * 16) - 4) * 10 ** decimals) / 10 ** decimals;
        yield v;
        if (v !== 0) {
          yield neighbour(v, 1);
          yield neighbour(v, -1);
        }
      }
    }
    expect(expectAllAsString(values())).toBeGreaterThan(250_000);
  });

  it('writes what String(v) writes at the edges of its ranges', () => {
    const edges = [
      0, -0, 1, -1, 0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 0.5, 1.5, 2.5, 9.5, 99.99, 100, 1200, 1e-5, 1e-6, 1e-7, 0.00001234,
      0.0000012345678901234567, 123456.789012, 946791.3457310129, 2 ** 50, 2 ** 52, 2 ** 53, 2 ** 53 + 2, 1e15, 1e16, 1e21, 1e22,
      123456789012345680000, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON,
      Number.MAX_SAFE_INTEGER, 4503599627370495.5, 1125899906842623.9, 999999999999999.9,
    ];
    for (let e = -24; e <= 24; e++) edges.push(10 ** e, 2 ** e * 3);
    for (let e = 40; e <= 60; e++) edges.push(2 ** e - 1, 2 ** e + 1, 2 ** e / 1e8);
    const around = edges.flatMap((v) => (v === 0 ? [v] : [v, neighbour(v, 1), neighbour(v, -1)])).filter(Number.isFinite);
    expectAllAsString([...around, ...around.map((v) => -v)]);
  });

  it('never writes more than MAX_NUMBER_BYTES', () => {
    for (const v of [-0.0000012345678901234567, -1.7976931348623157e308, -2.2250738585072014e-308, -123456789012345680000, -1.2345678901234568e-7]) {
      expect(writeNumber(out, 0, v)).toBeLessThanOrEqual(MAX_NUMBER_BYTES);
    }
    expect(writeNumber(out, 0, -0.0000012345678901234567)).toBe(MAX_NUMBER_BYTES);
  });

  it('writes at the offset it is given and nothing beyond its text', () => {
    const buf = Buffer.alloc(12, 0x2a);
    expect(writeNumber(buf, 3, -21.37)).toBe(6);
    expect(buf.toString('latin1')).toBe('***-21.37***');
  });

  it('makes no string for a value with few decimals', () => {
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      for (const v of [21.37, -0.0042, 1200, 0.00001, 87.1234, -100.5, 123456.789, 4503599627.37]) text(v);
      expect(stringify).not.toHaveBeenCalled();
      text(1 / 3);
      expect(stringify).toHaveBeenCalledTimes(1);
    } finally {
      stringify.mockRestore();
    }
  });
});
