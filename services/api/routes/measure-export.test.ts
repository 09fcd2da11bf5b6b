import { chunked, csvField, csvLine, ndjsonLine } from './measure-export';

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
    expect(csvLine(m('-s1', -2.5))).toBe("device-vibrations,hertz,2022-04-06T07:00:00.000001Z,-2.5,'-s1\r\n");
    expect(JSON.parse(ndjsonLine(m('')))).toEqual({
      experiment: 'device-vibrations',
      measure_type: 'hertz',
      timestamp: '2022-04-06T07:00:00.000001Z',
      value: 1.5,
      source: '',
    });
  });

  it('quotes names the same way every time they repeat', () => {
    for (let i = 0; i < 3; i++) expect(csvLine(m('a,b'))).toBe('device-vibrations,hertz,2022-04-06T07:00:00.000001Z,1.5,"a,b"\r\n');
  });

  it('chunks lines without losing or reordering any', async () => {
    async function* batches() {
      for (let i = 0; i < 1000; i += 7) {
        yield await Promise.resolve(Array.from({ length: Math.min(7, 1000 - i) }, (_, j) => m(`s${i + j}`, i + j)));
      }
    }
    const chunks: string[] = [];
    for await (const c of chunked(batches(), ndjsonLine, 'HEAD\n', 4096)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(10);
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines[0]).toBe('HEAD');
    expect(lines.slice(1).map((l) => (JSON.parse(l) as { value: number }).value)).toEqual([...Array(1000).keys()]);
  });
});
