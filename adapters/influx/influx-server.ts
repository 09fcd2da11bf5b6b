import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import type { Measure } from '../../services/shared/measure-contract';
import { JournalFullError } from '../sdk/durable-sink';
import type { DurableSink } from '../sdk/durable-sink';
import type { ForwarderLog } from '../sdk/forwarder';
import { RecordTooLargeError } from '../sdk/journal';
import { credentialsOf } from './influx-auth';
import type { Authenticator } from './influx-auth';
import { experimentProblem, parsePrecision, pointToMeasures } from './influx-measures';
import type { MeasureNaming } from './influx-measures';
import { parseLineProtocol } from './line-protocol';

/**
 * An HTTP endpoint that speaks enough of InfluxDB's API for Telegraf's `influxdb` and
 * `influxdb_v2` outputs (and other line-protocol clients) to write to MyMONIT unchanged:
 * POST /write (v1) and /api/v2/write (v2), /ping, /health, and /query for Telegraf's
 * `CREATE DATABASE`. A write is answered 204 only once its measures are in the journal (fsync).
 * Status codes follow what clients do with them: bad lines → 400 (the good lines of the body are
 * kept; Telegraf drops a batch on a 4xx, so only lines that can never succeed get one); journal
 * full or failing → 503 with Retry-After (Telegraf keeps the batch and retries); body too big →
 * 413 (Telegraf v2 splits the batch).
 */

export const INFLUXDB_VERSION = '1.8.10';
/** Measures per journal record (and so per AMQP message). */
const MEASURES_PER_APPEND = 10_000;
const MAX_REPORTED_LINES = 10;
const MAX_QUERY_BODY_BYTES = 64 * 1024;
const DEFAULT_RETRY_AFTER_SECONDS = 5;

type Api = 'v1' | 'v2';

export interface InfluxObserver {
  request?(endpoint: string, status: number): void;
  lines?(accepted: number, rejected: number): void;
}

export interface InfluxServerOptions {
  readonly sink: DurableSink;
  readonly auth: Authenticator;
  /** Most bytes of a body, after gunzip. */
  readonly maxBodyBytes: number;
  readonly naming: MeasureNaming;
  readonly log?: ForwarderLog;
  readonly observer?: InfluxObserver;
  /** Why writes cannot succeed now (for /health), or undefined. */
  readonly unavailableReason?: () => string | undefined;
  /** Microseconds since the epoch (tests). */
  readonly nowUs?: () => number;
}

/** An answer other than success; `code` is InfluxDB 2's error code. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settle(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(undefined));
    req.on('error', (err) => settle(err));
    req.on('close', () => settle(new Error('the client closed the connection before the end of the body')));
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'request too large', `Request Entity Too Large: the body (uncompressed) may hold at most ${limit} bytes`, {}, { maxLength: limit });
}

function gunzipBody(body: Buffer, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) resolve(out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(tooLarge(limit));
      else reject(new HttpError(400, 'invalid', `the body is not valid gzip: ${err.message}`));
    });
  });
}

interface RejectedLine {
  readonly line: number;
  readonly detail: string;
}

export class InfluxServer {
  private server: http.Server | undefined;
  private closing = false;
  private readonly nowUs: () => number;

  constructor(private readonly opts: InfluxServerOptions) {
    this.nowUs = opts.nowUs ?? nowMicros;
  }

  /** The request listener, for a server of the caller's own (tests). */
  readonly listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void this.handle(req, res);
  };

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = http.createServer({ keepAliveTimeout: 65_000 }, this.listener);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** Stops taking connections and waits (up to graceMs) for the requests under way to be answered. */
  async close(graceMs = 10_000): Promise<void> {
    const server = this.server;
    if (!server || this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    this.server = undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('X-Influxdb-Version', INFLUXDB_VERSION);
    res.setHeader('X-Influxdb-Build', 'OSS');
    res.setHeader('Request-Id', randomUUID());
    if (this.closing) res.setHeader('Connection', 'close');
    const url = new URL(req.url ?? '/', 'http://influx.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const api: Api = path.startsWith('/api/') ? 'v2' : 'v1';
    let endpoint = 'other';
    try {
      switch (path) {
        case '/write':
          endpoint = 'write';
          this.allow(req, ['POST']);
          await this.write('v1', req, res, url);
          break;
        case '/api/v2/write':
          endpoint = 'api_v2_write';
          this.allow(req, ['POST']);
          await this.write('v2', req, res, url);
          break;
        case '/ping':
          endpoint = 'ping';
          this.allow(req, ['GET', 'HEAD']);
          if (url.searchParams.get('verbose') === 'true') this.json(res, 200, { version: INFLUXDB_VERSION });
          else res.writeHead(204).end();
          break;
        case '/health':
          endpoint = 'health';
          this.allow(req, ['GET', 'HEAD']);
          this.health(res);
          break;
        case '/query':
          endpoint = 'query';
          this.allow(req, ['GET', 'POST']);
          await this.query(req, res, url);
          break;
        default:
          throw new HttpError(404, 'not found', `path not found: ${path}`);
      }
    } catch (err) {
      this.fail(api, req, res, err);
    }
    this.opts.observer?.request?.(endpoint, res.statusCode);
    // A keep-alive connection whose request was under way when close() began becomes idle only
    // now; close it so close() need not wait for the grace period.
    if (this.closing) setImmediate(() => this.server?.closeIdleConnections());
  }

  private allow(req: http.IncomingMessage, methods: readonly string[]): void {
    if (!methods.includes(req.method ?? '')) {
      throw new HttpError(405, 'method not allowed', `method ${req.method ?? '?'} not allowed`, { Allow: methods.join(', ') });
    }
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers }).end(text);
  }

  /** Answers an error in the API's format: v1 `{"error"}`, v2 `{"code","message",…}`. */
  private fail(api: Api, req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    let e: HttpError;
    if (err instanceof HttpError) {
      e = err;
    } else {
      this.opts.log?.error('influx endpoint: request failed', { err: err instanceof Error ? err.message : String(err) });
      e = new HttpError(500, 'internal error', 'internal error');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // An answer sent before the body was read leaves the connection unusable for the next request.
    const headers: Record<string, string> = { ...e.headers, ...(req.complete ? {} : { Connection: 'close' }) };
    this.json(res, e.status, api === 'v1' ? { error: e.message } : { code: e.code, message: e.message, ...e.extra }, headers);
  }

  private health(res: http.ServerResponse): void {
    const reason = this.opts.unavailableReason?.();
    this.json(res, reason ? 503 : 200, {
      name: 'mymonit-influx',
      message: reason ?? 'ready for writes',
      status: reason ? 'fail' : 'pass',
      checks: [],
      version: INFLUXDB_VERSION,
    });
  }

  private authenticate(api: Api, req: http.IncomingMessage, url: URL): ReadonlySet<string> | undefined {
    const outcome = this.opts.auth.authenticate(credentialsOf(req.headers, url.searchParams));
    if (outcome.ok) return outcome.experiments;
    if (api === 'v1') {
      throw new HttpError(401, 'unauthorized', 'authorization failed', { 'WWW-Authenticate': 'Basic realm="InfluxDB"' });
    }
    throw new HttpError(401, 'unauthorized', 'unauthorized access');
  }

  private async query(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    this.authenticate('v1', req, url);
    let q = url.searchParams.get('q');
    if (q === null && req.method === 'POST') {
      const body = await readBody(req, MAX_QUERY_BODY_BYTES);
      q = new URLSearchParams(body.toString('utf8')).get('q');
    }
    // Telegraf's v1 output sends CREATE DATABASE at start; experiments are made through the API.
    if (q !== null && /^\s*CREATE\s+DATABASE\s/i.test(q)) {
      this.json(res, 200, { results: [{ statement_id: 0 }] });
      return;
    }
    throw new HttpError(400, 'invalid', 'this endpoint only takes writes: of queries, only CREATE DATABASE is accepted (and does nothing)');
  }

  private async write(api: Api, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const allowed = this.authenticate(api, req, url);
    const experiment = url.searchParams.get(api === 'v1' ? 'db' : 'bucket');
    const what = api === 'v1' ? 'database' : 'bucket';
    if (experiment === null || experiment === '') throw new HttpError(400, 'invalid', `${what} is required`);
    const problem = experimentProblem(experiment);
    if (problem) throw new HttpError(400, 'invalid', `${what} name ${problem}`);
    if (allowed && !allowed.has(experiment)) {
      throw new HttpError(403, 'forbidden', `insufficient permissions for write: these credentials may not write to ${what} "${experiment}"`);
    }
    const precision = parsePrecision(url.searchParams.get('precision'), api);
    if (!precision) {
      throw new HttpError(400, 'invalid', `invalid precision "${url.searchParams.get('precision')}": use ${api === 'v1' ? 'n, u, ms, s, m or h' : 'ns, us, ms or s'}`);
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity') {
      throw new HttpError(415, 'unsupported media type', `Content-Encoding ${encoding} is not supported (use gzip or identity)`);
    }
    const limit = this.opts.maxBodyBytes;
    if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge(limit);
    const receivedAtUs = this.nowUs();
    let body = await readBody(req, limit);
    if (encoding === 'gzip') body = await gunzipBody(body, limit);

    const parsed = parseLineProtocol(body.toString('utf8'));
    const rejected: RejectedLine[] = parsed.errors.map((e) => ({ line: e.line, detail: `unable to parse '${e.text}': ${e.reason}` }));
    const measures: Measure[] = [];
    const ctx = { experiment, precision, receivedAtUs, naming: this.opts.naming };
    for (const point of parsed.points) {
      const mapped = pointToMeasures(point, ctx);
      for (const m of mapped.measures) measures.push(m);
      if (mapped.problems.length > 0) rejected.push({ line: point.line, detail: mapped.problems.join('; ') });
    }
    await this.journal(measures);
    this.opts.observer?.lines?.(parsed.lines - rejected.length, rejected.length);
    if (rejected.length === 0) {
      res.writeHead(204).end();
      return;
    }
    rejected.sort((a, b) => a.line - b.line);
    const shown = rejected.slice(0, MAX_REPORTED_LINES).map((r) => `line ${r.line}: ${r.detail}`);
    if (rejected.length > MAX_REPORTED_LINES) shown.push(`and ${rejected.length - MAX_REPORTED_LINES} more`);
    const summary =
      measures.length > 0
        ? `partial write: ${rejected.length} of ${parsed.lines} lines rejected, the rest was stored`
        : `${rejected.length} of ${parsed.lines} lines rejected, nothing was stored`;
    throw new HttpError(400, 'invalid', `${summary}: ${shown.join('; ')}`, {}, { line: rejected[0].line });
  }

  /** Appends in records of at most MEASURES_PER_APPEND; resolves once all are durable. */
  private async journal(measures: Measure[]): Promise<void> {
    if (measures.length === 0) return;
    const appends: Array<Promise<void>> = [];
    for (let i = 0; i < measures.length; i += MEASURES_PER_APPEND) {
      appends.push(this.opts.sink.append(measures.length <= MEASURES_PER_APPEND ? measures : measures.slice(i, i + MEASURES_PER_APPEND)));
    }
    const failure = (await Promise.allSettled(appends)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failure) return;
    // Records of this body that did make it stay in the journal: the client's retry of the whole
    // body stores those measures again over themselves (same key, same value).
    const err: unknown = failure.reason;
    if (err instanceof JournalFullError) {
      throw new HttpError(503, 'unavailable', `the adapter's journal is full (the broker may be unreachable): retry in ${err.retryAfterSeconds} s`, {
        'Retry-After': String(err.retryAfterSeconds),
      });
    }
    if (err instanceof RecordTooLargeError) throw new HttpError(413, 'request too large', err.message, {}, { maxLength: err.maxRecordBytes });
    this.opts.log?.error('influx endpoint: cannot journal a write', { err: err instanceof Error ? err.message : String(err) });
    throw new HttpError(503, 'unavailable', 'the adapter cannot store writes right now: retry later', {
      'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS),
    });
  }
}
