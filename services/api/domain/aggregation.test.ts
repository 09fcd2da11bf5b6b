import { bucketCount, parseFunctions, parseInterval } from './aggregation';

describe('parseInterval', () => {
  it.each([
    ['1s', 1],
    ['90s', 90],
    ['1m', 60],
    ['15m', 900],
    ['6h', 21_600],
    ['1d', 86_400],
    ['366d', 31_622_400],
  ])('%s → %d seconds', (text, seconds) => {
    expect(parseInterval(text)).toBe(seconds);
  });

  it.each(['', '1', 'm', '0s', '01m', '1.5h', '-1m', '1w', '1M', '1 m', '367d', '9999999999s'])('refuses %j', (text) => {
    expect(typeof parseInterval(text)).toBe('string');
  });
});

describe('parseFunctions', () => {
  it('keeps the order asked, once each', () => {
    expect(parseFunctions('max,avg,max')).toEqual(['max', 'avg']);
    expect(parseFunctions('count')).toEqual(['count']);
  });
  it.each(['', 'sum', 'avg,', 'AVG', 'avg;min'])('refuses %j', (text) => {
    expect(typeof parseFunctions(text)).toBe('string');
  });
});

describe('bucketCount', () => {
  const s = 1_000_000;
  it('counts the aligned buckets a half-open range touches', () => {
    expect(bucketCount(0, 60 * s, 60)).toBe(1);
    expect(bucketCount(0, 60 * s + 1, 60)).toBe(2);
    expect(bucketCount(59 * s, 61 * s, 60)).toBe(2);
    expect(bucketCount(60 * s, 61 * s, 60)).toBe(1);
    expect(bucketCount(0, 86_400 * s, 60)).toBe(1440);
  });
});
