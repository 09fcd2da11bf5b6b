import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import winston from 'winston';
import { ecsFields, ecsStringify } from '@elastic/ecs-winston-format';
import { Client, HttpConnection } from '@elastic/elasticsearch';
import { Counter, Gauge } from 'prom-client';
import { ElasticsearchTransport } from 'winston-elasticsearch';
import type { ElasticsearchTransportOptions, LogData } from 'winston-elasticsearch';
import type { ConfigOf } from './config';
import { logContext } from './context';
import type { Metrics } from './metrics';

export type Logger = winston.Logger;

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|credential/i;
// user:password@ in any URL-looking string (amqp://, mysql://, https://).
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;

export function redactString(s: string): string {
  return s.replace(URL_CREDENTIALS, '$1***@').replace(BEARER, '$1***');
}

// A quoted SQL literal ('…' with '' or backslash escapes, or X'…'/0x… hex) and bare numbers.
const SQL_STRING = /'(?:[^'\\]|\\.|'')*'/g;
const SQL_HEX = /\b0x[0-9a-f]+\b/gi;
const SQL_NUMBER = /(?<![\w.$])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.$])/gi;

/**
 * A statement with its values replaced by ?: its shape stays for whoever debugs the failure, the
 * values (names, e-mail addresses, audit details, a user's measures) do not reach the logs.
 * mysql2 puts the statement, parameters inlined, on its errors (`sql`).
 */
export function redactSql(sql: string): string {
  return sql.replace(SQL_STRING, '?').replace(SQL_HEX, '?').replace(SQL_NUMBER, '?');
}

/** A database server's error: mysql2 puts the server's text in `sqlMessage`. */
interface DatabaseError extends Error {
  sqlMessage: string;
  sql?: unknown;
}

export function isDatabaseError(err: unknown): err is DatabaseError {
  return err instanceof Error && typeof (err as Partial<DatabaseError>).sqlMessage === 'string';
}

/** An ER_DUP_ENTRY text: the value, then the index it collided on, which stays. */
const DUPLICATE_ENTRY = /^(Duplicate entry )'.*'( for key '[^']*')$/s;

/**
 * A database server's error message without the values it quotes: MariaDB and MySQL name the
 * offending value ("Duplicate entry 'ada@example.org' for key 'users_email'", "Incorrect datetime
 * value: '…' for column `db`.`t`.`c` at row 1"), unescaped, so a value may itself hold quotes.
 * The index name of a duplicate stays (it says what collided); otherwise everything from the
 * first quote to the last (or to the end, for a lone quote) becomes ?. Identifiers are
 * backquoted and stay.
 */
export function redactServerMessage(message: string): string {
  if (DUPLICATE_ENTRY.test(message)) return message.replace(DUPLICATE_ENTRY, '$1?$2');
  const first = message.indexOf("'");
  if (first < 0) return message;
  // A lone quote (a value cut short) hides everything after it.
  const last = message.lastIndexOf("'");
  return `${message.slice(0, first)}?${last === first ? '' : message.slice(last + 1)}`;
}

/**
 * A copy of an error fit for a log line: credentials stripped from its text, and for a database
 * error, the values in the server's message and in the statement mysql2 attaches (`sql`) replaced
 * by ?. The caller's error is left as it was: code up the stack may still read it.
 */
function redactedError(err: Error): Error {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, err);
  let { message, stack } = err;
  if (isDatabaseError(err)) {
    const safe = redactServerMessage(err.message);
    if (stack) stack = stack.split(err.message).join(safe);
    message = safe;
    (copy as DatabaseError).sqlMessage = redactServerMessage(err.sqlMessage);
  }
  const sql = (err as { sql?: unknown }).sql;
  if (typeof sql === 'string') (copy as DatabaseError).sql = redactSql(sql);
  Object.defineProperty(copy, 'message', { value: redactString(message), writable: true, configurable: true });
  if (stack) Object.defineProperty(copy, 'stack', { value: redactString(stack), writable: true, configurable: true });
  return copy;
}

/** Deep copy with secret-looking keys masked, credentials stripped from strings, errors as redactedError. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return redactedError(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? '[REDACTED]' : redact(v, depth + 1);
  }
  return out;
}

/** The one redaction format: every transport sees only redacted records. */
const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = info[key];
    if (key === 'level') continue;
    info[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? '[REDACTED]' : redact(v);
  }
  return info;
});

const contextFormat = winston.format((info) => {
  const ctx = logContext.getStore();
  if (ctx?.requestId) info['http.request.id'] = ctx.requestId;
  if (ctx?.messageId) info['message.id'] = ctx.messageId;
  if (ctx?.userId) info['user.id'] = ctx.userId;
  return info;
});

export interface ElasticsearchLogOptions {
  readonly url: string;
  /** Lines kept in memory while Elasticsearch is away; lines beyond it are dropped (and counted). */
  readonly bufferLimit: number;
  readonly requestTimeoutMs?: number;
  /** PEM of the CA behind Elasticsearch's certificate, when it is a private one. */
  readonly ca?: string;
  readonly flushIntervalMs?: number;
  /** Registry for mymonit_log_lines_dropped_total and mymonit_log_lines_buffered. */
  readonly metrics?: Metrics;
}

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
  readonly transports?: winston.transport[];
  /** Also send every line to Elasticsearch, index mymonit-logs-YYYY.MM.DD (process time zone: run in UTC). */
  readonly elasticsearch?: ElasticsearchLogOptions;
}

/** The Elasticsearch log options a process's configuration asks for; undefined when none. */
export function elasticsearchLogOptions(config: ConfigOf<'elasticsearch'>, metrics?: Metrics): ElasticsearchLogOptions | undefined {
  const es = config.elasticsearch;
  if (es.url === undefined || !es.logs.enabled) return undefined;
  return {
    url: es.url,
    bufferLimit: es.logs.bufferLimit,
    requestTimeoutMs: es.requestTimeoutMs,
    ca: es.caFile === undefined ? undefined : readFileSync(es.caFile, 'utf8'),
    metrics,
  };
}

export function createLogger(opts: LoggerOptions): Logger {
  const logger = winston.createLogger({
    level: opts.level,
    format: winston.format.combine(
      contextFormat(),
      redactFormat(),
      ecsFields({ serviceName: opts.service, convertReqRes: false }),
      ecsStringify(),
    ),
    transports: [
      new winston.transports.Console(),
      ...(opts.transports ?? []),
      ...(opts.elasticsearch ? [elasticsearchTransport(opts.elasticsearch)] : []),
    ],
  });
  // winston re-emits a transport's 'error' on the logger, and an 'error' nobody listens to would
  // end the process: losing the log shipping path must never take a service down.
  logger.on('error', (err: unknown) => reportTransportTrouble(err));
  return logger;
}

/** Resolves once every transport has written what it holds, or after timeoutMs (call last, on shutdown). */
export async function flushLogger(logger: Logger, timeoutMs = 5000): Promise<void> {
  const finished = logger.transports.map(
    (t) => new Promise<void>((resolve) => t.once('finish', () => resolve())),
  );
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    void Promise.all(finished).then(() => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
}

const MESSAGE = Symbol.for('message');
let lastTroubleReport = 0;

/** Log shipping trouble goes to stderr, at most once a minute: never through the logger itself. */
function reportTransportTrouble(err: unknown): void {
  if (Date.now() - lastTroubleReport < 60_000) return;
  lastTroubleReport = Date.now();
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
  process.stderr.write(`${JSON.stringify({ 'log.level': 'warn', message: 'log shipping to Elasticsearch failed', reason: redactString(text ?? '') })}\n`);
}

/** What this module relies on inside winston-elasticsearch's BulkWriter (0.19). */
interface BulkWriterInternals {
  bulk: Array<{ doc: unknown }>;
  append(index: string, doc: unknown): void;
  write(body: unknown[]): Promise<void>;
}

/**
 * winston-elasticsearch buffers lines in memory (bounded by bufferLimit) and drops lines silently
 * in two places: when a line arrives with the buffer full, and when a failed bulk write is put back
 * into a buffer that filled up meanwhile. Both are counted here without changing its behaviour:
 * a line counts as dropped when it is neither buffered, nor in a request in flight, nor written.
 */
function elasticsearchTransport(o: ElasticsearchLogOptions): winston.transport {
  const client = new Client({
    node: o.url,
    requestTimeout: o.requestTimeoutMs ?? 15_000,
    maxRetries: 0,
    // See services/audit-shipper/main.ts: undici can leave a request pending for good.
    Connection: HttpConnection,
    ...(o.ca !== undefined && { tls: { ca: o.ca } }),
  });
  /** Each line's Elasticsearch _id, given when it is made (see sendEachLineOnce). */
  const ids = new WeakMap<object, string>();
  const options: ElasticsearchTransportOptions & { internalLogger: (...args: unknown[]) => void } = {
    client,
    indexPrefix: 'mymonit-logs',
    indexSuffixPattern: 'YYYY.MM.DD',
    bufferLimit: o.bufferLimit,
    flushInterval: o.flushIntervalMs ?? 1000,
    // The index template for mymonit-logs-* is Logstash's (logstash/templates/), shared with Filebeat's lines.
    ensureIndexTemplate: false,
    // The document is the very JSON line written to stdout: same fields, same redaction.
    transformer: (data: LogData): unknown => {
      const line: unknown = data.meta[MESSAGE as unknown as string];
      const doc = typeof line === 'string' ? (JSON.parse(line) as object) : { message: String(data.message) };
      ids.set(doc, randomUUID());
      return doc;
    },
    // Undeclared in its typings: where it reports documents Elasticsearch refused.
    internalLogger: (...args: unknown[]) => reportTransportTrouble(args.map((a) => (a instanceof Error ? a.message : JSON.stringify(a))).join(' ')),
  };
  const transport = new ElasticsearchTransport(options);
  transport.on('warning', (err: unknown) => reportTransportTrouble(err));
  const registry = o.metrics?.registry;
  const writer = (transport as unknown as { bulkWriter: BulkWriterInternals }).bulkWriter;
  const stored = sendEachLineOnce(client, ids);
  const dropped = registry
    ? ((registry.getSingleMetric('mymonit_log_lines_dropped_total') as Counter | undefined) ??
      new Counter({
        name: 'mymonit_log_lines_dropped_total',
        help: 'Log lines the Elasticsearch transport dropped (buffer full while Elasticsearch was away)',
        registers: [registry],
      }))
    : undefined;
  if (registry && !registry.getSingleMetric('mymonit_log_lines_buffered')) {
    new Gauge({
      name: 'mymonit_log_lines_buffered',
      help: 'Log lines held in memory for Elasticsearch',
      registers: [registry],
      collect() {
        this.set(writer.bulk.length);
      },
    });
  }
  countDroppedLines(transport, writer, o.bufferLimit, stored, () => dropped?.inc());
  return transport;
}

type BulkParams = { body?: unknown[] } & Record<string, unknown>;
type BulkReply = { items?: Array<Record<string, { status?: number } | undefined>> };

/**
 * What winston-elasticsearch sends, fixed on its way out (its 0.19 has these faults):
 * - its action lines carry its retry count next to the operation (`{"index":{…},"attempts":0}`),
 *   which Elasticsearch 8 accepts with a critical deprecation and 9 refuses, whole request and all;
 * - after a partial failure it puts the whole bulk back: lines already stored were stored again,
 *   and a line refused for good (a mapping error) went back up to 400 times, pausing the shipping
 *   each time.
 * Each line has an id from when it was made (`ids`), and each action line is rebuilt with only the
 * operation, its index and that id, so a line sent again (a reply lost after the write) overwrites
 * itself. From each reply, a line stored or refused for good is marked `created` in the writer's
 * own body, which its rollback skips: only lines pushed back (429, 5xx) are sent again. Refused
 * lines are then neither buffered nor stored, and countDroppedLines counts them as dropped.
 * Returns the lines Elasticsearch stored.
 */
function sendEachLineOnce(client: Client, ids: WeakMap<object, string>): WeakSet<object> {
  const stored = new WeakSet<object>();
  const bulk = client.bulk.bind(client) as (params: BulkParams) => Promise<unknown>;
  (client as unknown as { bulk: (params: BulkParams) => Promise<unknown> }).bulk = async (params) => {
    const body = params.body;
    if (!Array.isArray(body)) return bulk(params);
    const lines = body.map((entry, i) => {
      if (i % 2 === 1) return entry;
      const action = entry as Record<string, { _index?: string } | undefined>;
      const op = 'create' in action ? 'create' : 'index';
      const doc = body[i + 1];
      const id = typeof doc === 'object' && doc !== null ? ids.get(doc) : undefined;
      return { [op]: { _index: action[op]?._index, ...(id === undefined ? {} : { _id: id }) } };
    });
    const reply = await bulk({ ...params, body: lines });
    const items = (reply as BulkReply | undefined)?.items ?? [];
    items.forEach((item, k) => {
      const status = Object.values(item)[0]?.status ?? 0;
      const action = body[2 * k] as { created?: boolean } | undefined;
      const doc = body[2 * k + 1];
      if (!action || status === 0 || status === 429 || status >= 500) return;
      action.created = true;
      if (status < 300 && typeof doc === 'object' && doc !== null) stored.add(doc);
    });
    return reply;
  };
  return stored;
}

function countDroppedLines(
  transport: winston.transport,
  writer: BulkWriterInternals,
  bufferLimit: number,
  stored: WeakSet<object>,
  onDrop: () => void,
): void {
  const accepted = new Set<unknown>();
  const inFlight = new Map<unknown[], unknown[]>();
  // The writer emits 'warning' from the catch of the write that failed, in the same microtask run
  // that then resumes our await below; another write's failure arrives with another I/O event.
  let failedNow = false;
  transport.on('warning', () => {
    failedNow = true;
    setImmediate(() => (failedNow = false));
  });

  const append = writer.append.bind(writer);
  writer.append = (index, doc) => {
    if (writer.bulk.length >= bufferLimit) {
      onDrop();
      return;
    }
    accepted.add(doc);
    append(index, doc);
  };

  const write = writer.write.bind(writer);
  writer.write = async (body) => {
    const docs = body.filter((_, i) => i % 2 === 1);
    inFlight.set(body, docs);
    await write(body);
    inFlight.delete(body);
    for (const d of docs) if (!failedNow || stored.has(d as object)) accepted.delete(d);
    const live = new Set<unknown>(writer.bulk.map((e) => e.doc));
    for (const ds of inFlight.values()) for (const d of ds) live.add(d);
    for (const d of accepted) {
      if (!live.has(d)) {
        accepted.delete(d);
        onDrop();
      }
    }
  };
}
