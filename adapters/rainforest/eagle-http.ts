/**
 * One POST of an XML command to an Eagle, bounded in time and size. Errors say what went wrong in
 * words an operator can act on and never carry the credentials sent.
 */

/** Upper bound on a response body: a device_query with every variable is about 11 kB. */
const MAX_RESPONSE_BYTES = 1 << 20;

/** The gateway answered with an HTTP error status; 401 means the credentials were refused. */
export class EagleHttpError extends Error {
  constructor(readonly status: number) {
    super(
      status === 401
        ? 'authentication refused (HTTP 401): check the cloud id and install code'
        : `HTTP ${status} from the gateway`,
    );
    this.name = 'EagleHttpError';
  }
}

/** No complete answer within the request timeout. */
export class EagleTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'EagleTimeoutError';
  }
}

/** The gateway could not be reached or the connection broke. */
export class EagleConnectionError extends Error {
  constructor(why: string) {
    super(`cannot reach the gateway: ${why}`);
    this.name = 'EagleConnectionError';
  }
}

export interface EagleRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Aborted when the adapter stops. */
  readonly signal: AbortSignal;
}

function connectionCause(err: unknown): string {
  // undici reports network failures as TypeError('fetch failed') with the socket error as cause.
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code}${cause.message.includes(code) ? '' : ` (${cause.message})`}` : cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}

async function readLimited(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new EagleConnectionError(`response larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Posts the command; resolves with the body of a 2xx answer. */
export async function postCommand(req: EagleRequest): Promise<string> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', ...req.headers },
      body: req.body,
      signal,
      redirect: 'error',
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new EagleHttpError(res.status);
    }
    return await readLimited(res.body);
  } catch (err) {
    if (err instanceof EagleHttpError || err instanceof EagleConnectionError) throw err;
    if (timeout.aborted && !req.signal.aborted) throw new EagleTimeoutError(req.timeoutMs);
    if (req.signal.aborted) throw err;
    throw new EagleConnectionError(connectionCause(err));
  }
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
