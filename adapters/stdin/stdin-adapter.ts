import fs from 'node:fs';
import { addAbortSignal } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { MAX_MEASURES_PER_MESSAGE } from '../../services/shared/measure-contract';
import { BatchingSender } from '../sdk/batching-sender';
import { defineKind, EXIT, UsageError } from '../sdk/cli';
import type { AdapterContext, OptionValues } from '../sdk/cli';
import type { MeasurePublisher } from '../sdk/publisher';
import { readLines } from './line-reader';
import type { ByteCount } from './line-reader';
import { csvParser, FORMATS, InputError, jsonlParser, plainParser } from './line-parsers';
import type { InputFormat, LineParser } from './line-parsers';
import { formatProgress } from './progress';

const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_FLUSH_MS = 200;
/** Messages awaiting a confirm before reading pauses. */
const MAX_IN_FLIGHT = 8;
const PROGRESS_EVERY_MS = 1000;

const OPTIONS = {
  format: { type: 'string', short: 'f', valueName: 'FORMAT', description: `plain (default), jsonl or csv` },
  experiment: { type: 'string', short: 'e', valueName: 'NAME', description: 'experiment of every value (plain format, required)' },
  measure: { type: 'string', short: 'm', valueName: 'NAME', description: 'measure type of every value, e.g. hertz (plain format, required)' },
  source: { type: 'string', short: 's', valueName: 'ID', description: 'device or sensor id of every value (plain format)' },
  file: { type: 'string', valueName: 'PATH', description: 'read this file instead of stdin ("-" for stdin)' },
  'batch-size': {
    type: 'string',
    valueName: 'N',
    description: `measures per message, 1 to ${MAX_MEASURES_PER_MESSAGE} (default ${DEFAULT_BATCH_SIZE})`,
  },
  'flush-ms': {
    type: 'string',
    valueName: 'MS',
    description: `send a partly filled message after this long (default ${DEFAULT_FLUSH_MS})`,
  },
  progress: { type: 'boolean', description: 'print progress every second (default: only for an input file)' },
  quiet: { type: 'boolean', short: 'q', description: 'no progress lines' },
} as const;

type StdinValues = OptionValues<typeof OPTIONS>;

const DESCRIPTION = `
Reads measures line by line from stdin (or --file) and publishes them in batches.

Formats:
  plain  one number per line, stamped with the time it is read; needs --experiment and --measure
  jsonl  one measure object per line:
         {"experiment": "e1", "measure": "hertz", "value": 12.5, "timestamp": 1700000000, "source": "s1"}
         timestamp: epoch seconds, epoch milliseconds, or ISO-8601 with an offset
  csv    a header line naming the columns experiment, measure, value, timestamp and optionally
         source (any order), then one measure per line; fields may be "quoted"

Invalid lines are reported on stderr as "line N: reason" and skipped. At the end a summary goes to
stderr. Exit code: 0 all lines sent, 1 some lines rejected (the rest sent), 2 usage, connection or
publishing error.`;

function integerOption(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) throw new UsageError(`--${name} must be an integer from 1 to ${max}`);
  return n;
}

function parserFor(values: StdinValues): LineParser {
  const format = values.format ?? 'plain';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  }
  if ((format as InputFormat) !== 'plain') {
    const misplaced = (['experiment', 'measure', 'source'] as const).filter((o) => values[o] !== undefined);
    if (misplaced.length) throw new UsageError(`--${misplaced[0]} applies to the plain format only; ${format} lines carry their own`);
    return format === 'jsonl' ? jsonlParser() : csvParser();
  }
  const { experiment, measure, source } = values;
  if (experiment === undefined || measure === undefined) {
    throw new UsageError('the plain format needs --experiment and --measure');
  }
  const parser = plainParser({ experiment, measure, source });
  // Names the contract refuses would make every line fail: say so once, up front.
  const probe = parser('0');
  if (probe.kind === 'rejected') throw new UsageError(`invalid --experiment, --measure or --source: ${probe.reason}`);
  return parser;
}

interface Input {
  /** Opened only once the broker is reachable, so nothing is read that cannot be sent. */
  open(): Readable;
  /** Size in bytes when the input is a regular file. */
  readonly size: number | undefined;
}

function inputFor(file: string | undefined, stdin: Readable): Input {
  if (file === undefined || file === '-') {
    let size: number | undefined;
    try {
      const stat = fs.fstatSync(0);
      size = stat.isFile() ? stat.size : undefined;
    } catch {
      size = undefined;
    }
    return { open: () => stdin, size };
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (stat.isDirectory()) throw new UsageError(`--file ${file} is a directory`);
  return { open: () => fs.createReadStream(file), size: stat.isFile() ? stat.size : undefined };
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Outcome {
  lines: number;
  rejected: number;
  interrupted: boolean;
  failure: string | undefined;
}

/** Reads every line, sends the measures, reports rejected lines; never throws. */
async function pump(
  stream: Readable,
  parser: LineParser,
  sender: BatchingSender,
  /** Aborted when a batch failed: stop reading rather than wait for input that cannot be sent. */
  stopReading: AbortSignal,
  ctx: AdapterContext,
  count: ByteCount,
  outcome: Outcome,
): Promise<void> {
  const err: Writable = ctx.stderr;
  try {
    addAbortSignal(AbortSignal.any([ctx.signal, stopReading]), stream);
    for await (const line of readLines(stream, count)) {
      const lineNo = ++outcome.lines;
      let result;
      try {
        result = parser(line);
      } catch (e) {
        if (e instanceof InputError) throw new Error(`line ${lineNo}: ${e.message}`, { cause: e });
        throw e;
      }
      if (result.kind === 'rejected') {
        outcome.rejected++;
        err.write(`line ${lineNo}: ${result.reason}\n`);
      } else if (result.kind === 'measure') {
        await sender.add(result.measure);
      }
    }
  } catch (e) {
    if (!isAbort(e)) outcome.failure = describe(e);
    else if (ctx.signal.aborted) outcome.interrupted = true;
  }
  try {
    // After a failure, still wait for the batches in flight so the summary counts them right.
    await sender.finish();
  } catch (e) {
    outcome.failure ??= describe(e);
  }
}

async function run(values: StdinValues, ctx: AdapterContext): Promise<number> {
  const parser = parserFor(values);
  const batchSize = integerOption('batch-size', values['batch-size'], DEFAULT_BATCH_SIZE, MAX_MEASURES_PER_MESSAGE);
  const flushMs = integerOption('flush-ms', values['flush-ms'], DEFAULT_FLUSH_MS, 60_000);
  const input = inputFor(values.file, ctx.stdin);
  const showProgress = !values.quiet && (values.progress ?? input.size !== undefined);

  let publisher: MeasurePublisher;
  try {
    publisher = await ctx.openPublisher({ maxMeasuresPerMessage: batchSize });
  } catch (err) {
    throw new Error(`cannot connect to the AMQP broker: ${describe(err)}`, { cause: err });
  }
  const failed = new AbortController();
  // One batch is one message: the publisher's per-message limit is the batch size.
  const sender = new BatchingSender(publisher, {
    batchSize,
    flushMs,
    maxInFlight: MAX_IN_FLIGHT,
    onFailure: () => failed.abort(),
  });
  const count: ByteCount = { bytes: 0 };
  const outcome: Outcome = { lines: 0, rejected: 0, interrupted: false, failure: undefined };
  const started = Date.now();
  const progress = showProgress
    ? setInterval(() => {
        const line = formatProgress({
          elapsedMs: Date.now() - started,
          lines: outcome.lines,
          confirmedMeasures: sender.stats.confirmedMeasures,
          bytesRead: count.bytes,
          totalBytes: input.size,
        });
        ctx.stderr.write(`${line}\n`);
      }, PROGRESS_EVERY_MS).unref()
    : undefined;
  try {
    await pump(input.open(), parser, sender, failed.signal, ctx, count, outcome);
  } finally {
    clearInterval(progress);
    await publisher.close();
  }

  const { confirmedMeasures, confirmedMessages, unconfirmedMeasures } = sender.stats;
  if (outcome.failure !== undefined) ctx.stderr.write(`error: ${outcome.failure}\n`);
  const summary = [
    `sent ${confirmedMeasures} measures in ${confirmedMessages} messages`,
    `${outcome.rejected} lines rejected`,
    ...(unconfirmedMeasures > 0 ? [`${unconfirmedMeasures} measures NOT sent`] : []),
  ].join(', ');
  ctx.stderr.write(`${summary}${outcome.interrupted ? ' (interrupted before the end of the input)' : ''}\n`);
  if (outcome.failure !== undefined) return EXIT.failure;
  return outcome.rejected > 0 ? EXIT.rejectedInput : EXIT.ok;
}

export const stdinAdapter = defineKind({
  name: 'stdin',
  summary: 'measures from stdin or a file: plain numbers, JSON lines or CSV',
  description: DESCRIPTION,
  options: OPTIONS,
  run,
});
