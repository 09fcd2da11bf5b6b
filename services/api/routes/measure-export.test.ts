import { chunked, csvField, csvLines, ndjsonLines } from './measure-export';
import { measureJson, sqlToIso } from './presenters';

const m = (source: string, value = 1.5) => ({
  ts: '2022-04-06 07:00:00.000001',
  measureTypeId: 1,
  measureTypeName: 'hertz',
  experimentName: 'device-vibrations',
  source,
  value,
});

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+2', "'=1+2"],
    ['+cmd', "'+cmd"],
    ['-x', "'-x"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
  ])('%j → %s', (input, out) => {
    expect(csvField(input)).toBe(out);
  });
});

describe('lines', () => {
  it('CSV and NDJSON carry the JSON API fields; numbers are never quoted or prefixed', () => {
    expect(csvLines([m('-s1', -2.5)]).toString('utf8')).toBe("device-vibrations,hertz,2022-04-06T07:00:00.000001Z,-2.5,'-s1\r\n");
    expect(JSON.parse(ndjsonLines([m('')]).toString('utf8'))).toEqual({
      experiment: 'device-vibrations',
      measure_type: 'hertz',
      timestamp: '2022-04-06T07:00:00.000001Z',
      value: 1.5,
      source: '',
    });
  });

  it('quotes names the same way every time they repeat', () => {
    for (let i = 0; i < 3; i++) expect(csvLines([m('a,b')]).toString('utf8')).toBe('device-vibrations,hertz,2022-04-06T07:00:00.000001Z,1.5,"a,b"\r\n');
  });

  it('write, for any names, timestamps and values, the bytes of the lines as text would make them', () => {
    const names = { experimentName: 'expérience "ü", 😀', measureTypeName: '=wätt' };
    const rows = [
      m('ünïcødé \u2028 \ud83d\ude00', -0.0000012345678901234567),
      { ...m('quote " and \\ backslash', -1.7976931348623157e308), ...names },
      { ...m('new\nline', 5e-324), ts: '2022-04-06 07:00:00' },
      { ...m('', 1 / 3), ts: '2022-04-06 07:00:00.5', ...names },
      { ...m('plain', -0), measureTypeName: 'watt', measureTypeId: 2 },
      m('plain', 21.37),
    ];
    const csvText = (r: (typeof rows)[number]) =>
      `${csvField(r.experimentName)},${csvField(r.measureTypeName)},${sqlToIso(r.ts)},${String(r.value)},${csvField(r.source)}\r\n`;
    expect(csvLines(rows).toString('utf8')).toBe(rows.map(csvText).join(''));
    expect(ndjsonLines(rows).toString('utf8')).toBe(rows.map((r) => `${JSON.stringify(measureJson(r))}\n`).join(''));
    expect(csvLines([]).length).toBe(0);
    expect(ndjsonLines([]).length).toBe(0);
  });

  it('chunks lines without losing or reordering any', async () => {
    async function* batches() {
      for (let i = 0; i < 1000; i += 7) {
        yield await Promise.resolve(Array.from({ length: Math.min(7, 1000 - i) }, (_, j) => m(`s${i + j}`, i + j)));
      }
    }
    const chunks: Buffer[] = [];
    for await (const c of chunked(batches(), ndjsonLines, 'HEAD\n', 4096)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.slice(0, -1).every((c) => c.length >= 4096)).toBe(true);
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('HEAD');
    expect(lines.slice(1).map((l) => (JSON.parse(l) as { value: number }).value)).toEqual([...Array(1000).keys()]);
  });
});
