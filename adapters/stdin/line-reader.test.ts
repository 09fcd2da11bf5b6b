import { Readable } from 'node:stream';
import { readLines } from './line-reader';

function chunks(...parts: Array<string | Buffer>): Readable {
  return Readable.from(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

async function collect(input: Readable): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(input)) lines.push(line);
  return lines;
}

describe('readLines', () => {
  it('splits across chunk boundaries, LF and CRLF, keeps blank lines and a last line without newline', async () => {
    expect(await collect(chunks('a\nb', 'c\r\n\nd\r', '\ne'))).toEqual(['a', 'bc', '', 'd', 'e']);
  });

  it('drops a leading byte order mark', async () => {
    expect(await collect(chunks(Buffer.from([0xef, 0xbb]), Buffer.from([0xbf, 0x61, 0x0a])))).toEqual(['a']);
  });

  it('decodes a UTF-8 character split between chunks', async () => {
    const bytes = Buffer.from('°C\n');
    expect(await collect(chunks(bytes.subarray(0, 1), bytes.subarray(1)))).toEqual(['°C']);
  });

  it('counts the bytes read', async () => {
    const count = { bytes: 0 };
    for await (const line of readLines(chunks('ab\n', 'é\n'), count)) expect(typeof line).toBe('string');
    expect(count.bytes).toBe(6);
  });

  it('yields nothing for empty input', async () => {
    expect(await collect(chunks())).toEqual([]);
  });
});
