import { parseLineProtocol } from './line-protocol';
import type { FieldValue, Point } from './line-protocol';

const one = (line: string): Point => {
  const parsed = parseLineProtocol(line);
  expect(parsed.errors).toEqual([]);
  expect(parsed.points).toHaveLength(1);
  return parsed.points[0];
};

const fields = (line: string): Record<string, FieldValue> => Object.fromEntries(one(line).fields);

const error = (line: string): string => {
  const parsed = parseLineProtocol(line);
  expect(parsed.points).toEqual([]);
  expect(parsed.errors).toHaveLength(1);
  return parsed.errors[0].reason;
};

describe('parseLineProtocol', () => {
  it('parses measurement, tags, fields and timestamp', () => {
    expect(one('weather,location=us-midwest,season=summer temperature=82,humidity=71i 1465839830100400200')).toEqual({
      line: 1,
      measurement: 'weather',
      tags: [
        ['location', 'us-midwest'],
        ['season', 'summer'],
      ],
      fields: [
        ['temperature', { type: 'float', value: 82 }],
        ['humidity', { type: 'integer', value: 71 }],
      ],
      timestamp: '1465839830100400200',
    });
    expect(one('cpu usage=0.5')).toMatchObject({ tags: [], timestamp: undefined });
  });

  it('reads every field type', () => {
    expect(fields('m f1=1,f2=1.0,f3=-1.2e+78,f4=.5,f5=1.,f6=-0,f7=1E3')).toEqual({
      f1: { type: 'float', value: 1 },
      f2: { type: 'float', value: 1 },
      f3: { type: 'float', value: -1.2e78 },
      f4: { type: 'float', value: 0.5 },
      f5: { type: 'float', value: 1 },
      f6: { type: 'float', value: -0 },
      f7: { type: 'float', value: 1000 },
    });
    expect(fields('m a=-9223372036854775808i,b=9223372036854775807i,c=0i,d=-12i')).toEqual({
      a: { type: 'integer', value: Number(-9223372036854775808n) },
      b: { type: 'integer', value: Number(9223372036854775807n) },
      c: { type: 'integer', value: 0 },
      d: { type: 'integer', value: -12 },
    });
    expect(fields('m a=0u,b=18446744073709551615u')).toEqual({
      a: { type: 'unsigned', value: 0 },
      b: { type: 'unsigned', value: Number(18446744073709551615n) },
    });
    const truthy = ['t', 'T', 'true', 'True', 'TRUE'];
    const falsy = ['f', 'F', 'false', 'False', 'FALSE'];
    for (const t of truthy) expect(fields(`m b=${t}`).b).toEqual({ type: 'boolean', value: true });
    for (const f of falsy) expect(fields(`m b=${f}`).b).toEqual({ type: 'boolean', value: false });
    expect(fields('m s="hello, world = yes",q="true"')).toEqual({
      s: { type: 'string', value: 'hello, world = yes' },
      q: { type: 'string', value: 'true' },
    });
  });

  it('unescapes names, keys and values as InfluxDB does', () => {
    const p = one('my\\ measure\\,ment,tag\\ key\\,x\\=y=tag\\ value\\,a\\=b field\\ k\\=e\\,y=1');
    expect(p.measurement).toBe('my measure,ment');
    expect(p.tags).toEqual([['tag key,x=y', 'tag value,a=b']]);
    expect(p.fields[0][0]).toBe('field k=e,y');
    // "=" needs no escape in a measurement; quotes outside string values are literal.
    expect(one('a=b,"t"=\'v\' "f"=1').measurement).toBe('a=b');
    expect(one('a=b,"t"=\'v\' "f"=1').tags).toEqual([['"t"', "'v'"]]);
    // Two backslashes are one; an unknown escape keeps its backslash (Telegraf's \n, \t).
    expect(one('m,path=C:\\\\temp\\\\,tab=a\\tb v=1').tags).toEqual([
      ['path', 'C:\\temp\\'],
      ['tab', 'a\\tb'],
    ]);
    expect(one('m\\ x,t=\\ lead v=1').tags).toEqual([['t', ' lead']]);
    expect(one('emoji😀,🌍=🔥 ✓=1').fields[0][0]).toBe('✓');
  });

  it('unescapes string field values and keeps raw newlines in them', () => {
    expect(fields('m s="say \\"hi\\"",b="back\\\\slash",k="keep\\n\\t"').s).toEqual({ type: 'string', value: 'say "hi"' });
    expect(fields('m b="back\\\\slash"').b).toEqual({ type: 'string', value: 'back\\slash' });
    expect(fields('m k="keep\\n\\t"').k).toEqual({ type: 'string', value: 'keep\\n\\t' });
    expect(fields('m e=""').e).toEqual({ type: 'string', value: '' });
    const parsed = parseLineProtocol('m s="two\nlines",v=1 1\nm v=2 2\n');
    expect(parsed.errors).toEqual([]);
    expect(parsed.points.map((p) => [p.line, p.fields[0][1]])).toEqual([
      [1, { type: 'string', value: 'two\nlines' }],
      [3, { type: 'float', value: 2 }],
    ]);
  });

  it('skips comments, blank lines, surrounding whitespace and CRs before LFs', () => {
    const parsed = parseLineProtocol('# a comment\n\n  m v=1 10  \r\n\t\nm v=2\r\n# end');
    expect(parsed.errors).toEqual([]);
    expect(parsed.points.map((p) => [p.line, p.timestamp])).toEqual([
      [3, '10'],
      [5, undefined],
    ]);
    expect(parsed.lines).toBe(2);
  });

  it('reports each bad line with its number and reason, and parses the rest', () => {
    const body = ['good v=1', 'no_fields', 'bad v=1 12x', 'good v=2', 'm,t= v=1', 'm v=', 'm v="open', 'good v=3'].join('\n');
    const parsed = parseLineProtocol(body);
    expect(parsed.points.map((p) => p.line)).toEqual([1, 4, 8]);
    expect(parsed.errors.map((e) => [e.line, e.reason])).toEqual([
      [2, 'missing fields'],
      [3, 'bad timestamp "12x"'],
      [5, 'missing tag value for tag key "t"'],
      [6, 'missing field value'],
      [7, 'unterminated string field value'],
    ]);
    expect(parsed.errors[1].text).toBe('bad v=1 12x');
    expect(parsed.lines).toBe(8);
  });

  it('refuses what InfluxDB refuses', () => {
    expect(error(',t=1 v=1')).toBe('missing measurement');
    expect(error('m v')).toBe('missing field value for field key "v"');
    expect(error('m =1')).toBe('missing fields');
    expect(error('m v=1,')).toBe('missing field key');
    expect(error('m,=x v=1')).toBe('missing tag key');
    expect(error('m,t v=1')).toBe('missing tag value for tag key "t"');
    expect(error('m,t=a=b v=1')).toBe('unescaped "=" in the value of tag "t"');
    expect(error('m v=abc')).toBe('invalid field value "abc"');
    expect(error('m v=0x10')).toBe('invalid field value "0x10"');
    expect(error('m v=+1')).toBe('invalid field value "+1"');
    expect(error('m v=NaN')).toBe('invalid field value "NaN"');
    expect(error('m v=1e999')).toBe('float "1e999" out of range');
    expect(error('m v=1.5i')).toBe('invalid integer "1.5i"');
    expect(error('m v=9223372036854775808i')).toBe('integer "9223372036854775808i" out of range');
    expect(error('m v=-1u')).toBe('invalid unsigned integer "-1u"');
    expect(error('m v=18446744073709551616u')).toBe('unsigned integer "18446744073709551616u" out of range');
    expect(error('m v=yes')).toBe('invalid field value "yes"');
    expect(error('m v=1 1.5')).toBe('bad timestamp "1.5"');
    expect(error('m v=1 12345678901234567890')).toBe('bad timestamp "12345678901234567890"');
    expect(error('m v=1 1 2')).toBe('unexpected text after the timestamp');
    expect(error('m v="a"x')).toBe('unexpected character "x" after the field set');
  });

  it('takes negative and nanosecond timestamps as digits', () => {
    expect(one('m v=1 -1').timestamp).toBe('-1');
    expect(one('m v=1 9223372036854775806').timestamp).toBe('9223372036854775806');
  });
});
