import { StringDecoder } from 'node:string_decoder';

/** Bytes consumed so far, for progress against a known input size. */
export interface ByteCount {
  bytes: number;
}

/**
 * Yields the lines of a byte stream (UTF-8, LF or CRLF, a leading BOM dropped, a last line without
 * a newline included). Reading pauses while the consumer works on a line, so input is never
 * buffered beyond one chunk.
 */
export async function* readLines(input: AsyncIterable<Buffer | string>, count: ByteCount = { bytes: 0 }): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let first = true;
  for await (const chunk of input) {
    count.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      yield withoutCr(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (first && rest.charCodeAt(0) === 0xfeff) rest = rest.slice(1);
  if (rest !== '') yield withoutCr(rest);
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
