import {
  EagleValueError,
  normalizeMac,
  parseDecimal,
  parseSignedHex,
  parseUnsignedHex,
  scale,
  unixHexToMicros,
  y2kHexToMicros,
} from './eagle-values';

describe('Eagle field decoding', () => {
  it('reads unsigned hex fields', () => {
    expect(parseUnsignedHex('Divisor', '0x000003e8')).toBe(1000);
    expect(parseUnsignedHex('x', '0x00000a')).toBe(10);
    expect(parseUnsignedHex('x', ' 0X0A ')).toBe(10);
    expect(() => parseUnsignedHex('Divisor', '1000')).toThrow(EagleValueError);
    expect(() => parseUnsignedHex('Divisor', '0x')).toThrow('Divisor: expected a hex number');
    expect(() => parseUnsignedHex('x', '0xffffffffffffffff')).toThrow('does not fit a double exactly');
  });

  it('reads demand as two’s complement, at least 24 bits wide', () => {
    expect(parseSignedHex('Demand', '0x0003b0')).toBe(944);
    expect(parseSignedHex('Demand', '0xfffc18')).toBe(-1000);
    expect(parseSignedHex('Demand', '0x800000')).toBe(-8_388_608);
    expect(parseSignedHex('Demand', '0x7fffff')).toBe(8_388_607);
    expect(parseSignedHex('Demand', '0xfffffc18')).toBe(-1000);
    // An unpadded short form is still 24 bits wide: 0x800 is a positive 2048.
    expect(parseSignedHex('Demand', '0x800')).toBe(2048);
    expect(parseSignedHex('Demand', '0x00fffc18')).toBe(16_776_216);
  });

  it('scales by Multiplier and Divisor, taking 0 as 1', () => {
    expect(scale(944, 1, 1000)).toBe(0.944);
    expect(scale(-1000, 1, 1000)).toBe(-1);
    expect(scale(5, 0, 0)).toBe(5);
    expect(scale(5, 2, 0)).toBe(10);
    expect(scale(5, 0, 10)).toBe(0.5);
  });

  it('counts legacy timestamps from 2000-01-01Z and local ones from 1970', () => {
    // The Eagle-Http-API README sample: 0x1c91ec39 is 2015-03-10T17:54:01Z.
    expect(y2kHexToMicros('TimeStamp', '0x1c91ec39')).toBe(Date.UTC(2015, 2, 10, 17, 54, 1) * 1000);
    expect(y2kHexToMicros('TimeStamp', '0x00000000')).toBe(Date.UTC(2000, 0, 1) * 1000);
    expect(unixHexToMicros('LastContact', '0x5c5aff97')).toBe(Date.UTC(2019, 1, 6, 15, 39, 3) * 1000);
  });

  it('reads decimal strings of the local API, empty meaning unknown', () => {
    expect(parseDecimal('v', '2.790000')).toBe(2.79);
    expect(parseDecimal('v', '-0.512000')).toBe(-0.512);
    expect(parseDecimal('v', '')).toBeUndefined();
    expect(parseDecimal('v', '  ')).toBeUndefined();
    expect(() => parseDecimal('v', 'Block 1')).toThrow('v: expected a decimal number');
    expect(() => parseDecimal('v', '0x10')).toThrow(EagleValueError);
  });

  it('keeps MAC ids as canonical strings, beyond 2^53', () => {
    expect(normalizeMac('m', '0xD8D5B90000002AEB')).toBe('0xd8d5b90000002aeb');
    expect(normalizeMac('m', '0x2aeb')).toBe('0x0000000000002aeb');
    expect(typeof normalizeMac('m', '0xd8d5b90000002aeb')).toBe('string');
    expect(() => normalizeMac('m', '15624597891882953451')).toThrow(EagleValueError);
  });
});
