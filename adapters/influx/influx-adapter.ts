import { Counter } from 'prom-client';
import { defineKind, EXIT, parseByteSize, UsageError } from '../sdk/cli';
import type { AdapterContext, OptionValues } from '../sdk/cli';
import { AuthConfigError, Authenticator } from './influx-auth';
import { MEASURE_NAMINGS } from './influx-measures';
import type { MeasureNaming } from './influx-measures';
import { InfluxServer } from './influx-server';

const DEFAULT_PORT = 8086;
/** InfluxDB's own default max-body-size is 25 MB; Telegraf sends ~1000 lines (~100 KB) a batch. */
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

const OPTIONS = {
  port: { type: 'string', short: 'p', valueName: 'PORT', description: `HTTP port (default ${DEFAULT_PORT}; 0 picks a free one)` },
  host: { type: 'string', valueName: 'ADDRESS', description: 'address to listen on (default 0.0.0.0)' },
  'auth-file': { type: 'string', valueName: 'PATH', description: 'JSON file of the tokens and users that may write (see below)' },
  token: { type: 'string', valueName: 'TOKEN', description: 'one token that may write to every experiment (visible in ps: prefer --auth-file)' },
  'allow-anonymous': { type: 'boolean', description: 'accept writes without credentials (closed networks and tests only)' },
  'max-body-bytes': {
    type: 'string',
    valueName: 'SIZE',
    description: 'largest body accepted, after gunzip, e.g. 8M (default 32M); larger gets 413',
  },
  'measure-name': {
    type: 'string',
    valueName: 'NAMING',
    description: '"field" (default): measure type = field key; "measurement.field": <measurement>.<field key>',
  },
} as const;

type InfluxValues = OptionValues<typeof OPTIONS>;

const DESCRIPTION = `
Accepts InfluxDB line protocol over HTTP, as InfluxDB 1.x and 2.x do, so Telegraf's influxdb and
influxdb_v2 outputs (and other line-protocol clients) can write to MyMONIT unchanged:

  POST /write?db=EXPERIMENT[&precision=n|u|ms|s|m|h]          (v1; auth: u/p, Basic or Token)
  POST /api/v2/write?bucket=EXPERIMENT[&org=…][&precision=ns|us|ms|s]   (v2; Authorization: Token)
  GET  /ping (204), GET /health (200), POST /query (CREATE DATABASE only, does nothing)

Bodies may be gzip-compressed (Content-Encoding: gzip). Each write is journaled to disk before it
is answered 204; the journal is forwarded to RabbitMQ with publisher confirms and survives broker
outages and restarts.

Mapping: database/bucket → experiment; each numeric or boolean field → one measure (booleans 1/0)
whose type is the field key (or <measurement>.<field key> with --measure-name measurement.field;
otherwise the measurement name is not stored); tag "source" → source, or without it the tag set
as sorted k=v pairs joined with "," (at most 64 characters); the line's timestamp (truncated to
microseconds), or the arrival time when it has none. String fields are not stored.

Answers: 204 stored; 400 with the line numbers and reasons of bad lines (the good lines of the
body are stored); 401 bad credentials; 403 an experiment the credentials may not write to; 413
body too large; 503 + Retry-After when the journal is full (the broker has been away long enough
to fill --journal-max-bytes): clients retry later and nothing accepted is lost.

Auth file:
  {"tokens": [{"token": "at-least-16-chars", "experiments": ["exp-a"]}],
   "users":  [{"username": "telegraf", "password": "at-least-8-chars"}]}
"experiments" limits what a token or user may write to; without it, any experiment.`;

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError('--port must be a port number from 0 to 65535');
  return n;
}

function authenticatorFor(values: InfluxValues): Authenticator {
  const given = [values['auth-file'] !== undefined, values.token !== undefined, values['allow-anonymous'] === true].filter(Boolean).length;
  if (given === 0) throw new UsageError('say who may write: --auth-file PATH, --token TOKEN, or --allow-anonymous');
  if (given > 1) throw new UsageError('use only one of --auth-file, --token and --allow-anonymous');
  if (values['allow-anonymous']) return Authenticator.allowAnonymous();
  if (values.token !== undefined) {
    if (values.token.length < 16) throw new UsageError('--token must be at least 16 characters');
    return Authenticator.fromConfig({ tokens: [{ token: values.token, experiments: undefined }], users: [] });
  }
  try {
    return Authenticator.fromFile(values['auth-file'] ?? '');
  } catch (err) {
    if (err instanceof AuthConfigError) throw new UsageError(err.message);
    throw err;
  }
}

async function run(values: InfluxValues, ctx: AdapterContext): Promise<number> {
  const port = parsePort(values.port);
  const auth = authenticatorFor(values);
  const maxBodyBytes = values['max-body-bytes'] === undefined ? DEFAULT_MAX_BODY_BYTES : parseByteSize(values['max-body-bytes']);
  if (maxBodyBytes === undefined || maxBodyBytes < 1024) throw new UsageError('--max-body-bytes must be a size of at least 1K, e.g. 8M');
  const naming = values['measure-name'] ?? 'field';
  if (!(MEASURE_NAMINGS as readonly string[]).includes(naming)) throw new UsageError(`--measure-name must be one of ${MEASURE_NAMINGS.join(', ')}`);

  const saf = await ctx.startStoreAndForward();
  const registers = [saf.metrics.registry];
  const requests = new Counter({
    name: 'mymonit_adapter_influx_requests_total',
    help: 'HTTP requests to the influx endpoint by endpoint and status',
    labelNames: ['endpoint', 'status'],
    registers,
  });
  const lines = new Counter({
    name: 'mymonit_adapter_influx_lines_total',
    help: 'Line-protocol lines received, accepted or rejected (a line with a rejected field counts as rejected)',
    labelNames: ['result'],
    registers,
  });
  const server = new InfluxServer({
    sink: saf.sink,
    auth,
    maxBodyBytes,
    naming: naming as MeasureNaming,
    log: saf.logger,
    unavailableReason: () => saf.journal.unavailableReason,
    observer: {
      request: (endpoint, status) => requests.inc({ endpoint, status: String(status) }),
      lines: (accepted, rejected) => {
        lines.inc({ result: 'accepted' }, accepted);
        if (rejected > 0) lines.inc({ result: 'rejected' }, rejected);
      },
    },
  });
  let listening: number;
  try {
    listening = await server.listen(port, values.host ?? '0.0.0.0');
  } catch (err) {
    await saf.stop();
    throw new Error(`cannot listen on port ${port}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  saf.logger.info('influx endpoint listening', { port: listening, host: values.host ?? '0.0.0.0', naming, maxBodyBytes });

  if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  saf.logger.info('influx endpoint stopping');
  // Answer the writes under way first: each ends with its append, so the journal is closed only
  // once nothing more can be appended to it.
  await server.close();
  await saf.stop();
  return EXIT.ok;
}

export const influxAdapter = defineKind({
  name: 'influx',
  summary: 'an InfluxDB-compatible HTTP endpoint for line protocol (Telegraf), journaled to disk',
  description: DESCRIPTION,
  options: OPTIONS,
  durable: true,
  run,
});
