import { csvParser, InputError, jsonlParser, plainParser } from './line-parsers';
import type { LineOutcome, LineParser } from './line-parsers';

const NOW_MS = 1_700_000_000_123;

function measureOf(outcome: LineOutcome): unknown {
  if (outcome.kind !== 'measure') throw new Error(`expected a measure, got ${JSON.stringify(outcome)}`);
  return outcome.measure;
}

function reasonOf(outcome: LineOutcome): string {
  if (outcome.kind !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}

describe('plainParser', () => {
  const parse = plainParser({ experiment: 'vibrations', measure: 'hertz', source: 's1', now: () => NOW_MS });

  it.each([
    ['12.5', 12.5],
    ['  -3 ', -3],
    ['1e3', 1000],
    ['+.5', 0.5],
    ['7.', 7],
  ])('reads %j as %p, stamped now', (line, value) => {
    expect(measureOf(parse(line))).toEqual({
      experiment: 'vibrations',
      measure: 'hertz',
      value,
      timestampUs: NOW_MS * 1000,
      source: 's1',
    });
  });

  it.each(['abc', '0x10', 'NaN', 'Infinity', '1,5', '1e400'])('rejects %j', (line) => {
    expect(reasonOf(parse(line))).toMatch(/^value: must be/);
  });

  it('skips blank lines', () => {
    expect(parse('   ')).toEqual({ kind: 'skipped' });
  });

  it('defaults the source to empty', () => {
    expect(measureOf(plainParser({ experiment: 'e', measure: 'watt', now: () => NOW_MS })('1'))).toMatchObject({ source: '' });
  });
});

describe('jsonlParser', () => {
  const parse = jsonlParser();

  it('reads a full measure with its own timestamp', () => {
    expect(
      measureOf(parse('{"experiment":"e1","measure":"watt","value":2.25,"timestamp":"2024-05-01T10:00:00.123456+02:00","source":"m7"}')),
    ).toEqual({ experiment: 'e1', measure: 'watt', value: 2.25, timestampUs: Date.UTC(2024, 4, 1, 8) * 1000 + 123456, source: 'm7' });
  });

  it('takes epoch seconds and milliseconds', () => {
    expect(measureOf(parse('{"experiment":"e","measure":"m","value":1,"timestamp":1700000000.5}'))).toMatchObject({
      timestampUs: 1_700_000_000_500_000,
    });
    expect(measureOf(parse('{"experiment":"e","measure":"m","value":1,"timestamp":1700000000123}'))).toMatchObject({
      timestampUs: 1_700_000_000_123_000,
    });
  });

  it.each([
    ['{"experiment":"e"', /^invalid JSON: /],
    ['[1,2]', /must be a JSON object/],
    ['{"experiment":"e","measure":"m","value":"1","timestamp":1}', /^value: must be a finite number/],
    ['{"measure":"m","value":1,"timestamp":1}', /^experiment: is required/],
    ['{"experiment":"e","measure":"m","value":1,"timestamp":"yesterday"}', /^timestamp: /],
  ])('rejects %s', (line, reason) => {
    expect(reasonOf(parse(line))).toMatch(reason);
  });
});

describe('csvParser', () => {
  function run(parse: LineParser, lines: string[]): LineOutcome[] {
    return lines.map((l) => parse(l));
  }

  it('reads columns by header name, in any order, with quoted fields', () => {
    const out = run(csvParser(), [
      'timestamp,Value,experiment,measure,source',
      '1700000000,12.5,vibrations,hertz,"sensor, north"',
      '"2024-01-01T00:00:00Z", 3 ,"the ""big"" one",degree Celsius,',
    ]);
    expect(out[0]).toEqual({ kind: 'skipped' });
    expect(measureOf(out[1])).toEqual({
      experiment: 'vibrations',
      measure: 'hertz',
      value: 12.5,
      timestampUs: 1_700_000_000_000_000,
      source: 'sensor, north',
    });
    expect(measureOf(out[2])).toEqual({
      experiment: 'the "big" one',
      measure: 'degree Celsius',
      value: 3,
      timestampUs: Date.UTC(2024, 0, 1) * 1000,
      source: '',
    });
  });

  it('rejects bad rows with the reason', () => {
    const parse = csvParser();
    parse('experiment,measure,value,timestamp');
    expect(reasonOf(parse('e,m,abc,1'))).toMatch(/^value: must be a finite number/);
    expect(reasonOf(parse('e,m,,1'))).toMatch(/^value: is required/);
    expect(reasonOf(parse('e,m,1'))).toBe('has 3 fields, the header has 4');
    expect(reasonOf(parse('e,m,"1,1'))).toBe('unterminated quoted field');
    expect(reasonOf(parse(',m,1,1'))).toMatch(/^experiment: is required/);
    expect(reasonOf(parse('e,m,1,not-a-date'))).toMatch(/^timestamp: /);
  });

  it.each([
    ['experiment,measure,value', /missing column timestamp/],
    ['experiment,measure,value,timestamp,unit', /unknown column "unit"/],
    ['experiment,measure,value,timestamp,value', /column "value" appears twice/],
  ])('refuses the header %j', (header, message) => {
    expect(() => csvParser()(header)).toThrow(InputError);
    expect(() => csvParser()(header)).toThrow(message);
  });
});
