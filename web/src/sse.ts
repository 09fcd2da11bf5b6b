/** Text streams of the API read incrementally: NDJSON lines and Server-Sent Events. */

/** Lines of a streamed text body, decoded as UTF-8 across chunk boundaries. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      let start = 0;
      for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
        yield rest.slice(start, nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
        start = nl + 1;
      }
      rest = rest.slice(start);
    }
    rest += decoder.decode();
    if (rest !== '') yield rest;
  } finally {
    // Leaving early (a consumer that has enough) cancels the body, which ends the request.
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * One block of a Server-Sent Events stream (fields up to a blank line). `data` is undefined for a
 * block without data (e.g. one that only sets `id` and `retry`), which is no message to handle but
 * still moves the last event id, as the standard says.
 */
export interface SseBlock {
  readonly event: string;
  readonly data: string | undefined;
  /** The last event id so far (ids persist across blocks). */
  readonly id: string | undefined;
  /** Reconnection delay in ms, when this block set one. */
  readonly retry: number | undefined;
}

/**
 * Server-Sent Events from a fetch body, per the HTML standard's parsing rules. EventSource cannot
 * send an Authorization header, so the page reads the stream itself. A comment (a heartbeat)
 * yields a block without data, so the reader can tell a quiet connection from a dead one.
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseBlock> {
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  let fields = 0;
  for await (const line of lines(body)) {
    if (line === '') {
      if (fields > 0) yield { event: event || 'message', data: data.length > 0 ? data.join('\n') : undefined, id, retry };
      event = '';
      data = [];
      retry = undefined;
      fields = 0;
      continue;
    }
    fields += 1;
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
}
