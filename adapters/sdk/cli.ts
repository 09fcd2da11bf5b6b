import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, loadAdapterConfig } from '../../services/shared/config';
import { redactString } from '../../services/shared/logger';
import { startStoreAndForward } from './forwarder-runtime';
import type { StoreAndForward } from './forwarder-runtime';
import { MeasurePublisher } from './publisher';

/**
 * The plumbing every adapter kind shares: `<kind> [options]` parsing with node:util parseArgs,
 * help texts, AMQP configuration, stop on SIGINT/SIGTERM and exit codes. A kind declares its
 * options and a run function; nothing here knows any device protocol.
 */

/** Exit codes of every adapter. */
export const EXIT = {
  ok: 0,
  /** Some input was rejected; the rest was sent. */
  rejectedInput: 1,
  /** Bad usage, bad configuration, or the broker could not be reached or took nothing. */
  failure: 2,
} as const;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly description: string;
  /** Placeholder shown in the help, e.g. PATH. */
  readonly valueName?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean;
};

/** A mistake in how the adapter was called: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface PublisherSettings {
  /** Measures per message (at most the contract's MAX_MEASURES_PER_MESSAGE). */
  readonly maxMeasuresPerMessage?: number;
}

export interface AdapterContext {
  readonly stdin: Readable;
  readonly stderr: Writable;
  /** Aborted on SIGINT or SIGTERM: stop reading input, send what was read, then return. */
  readonly signal: AbortSignal;
  /** Connects to the broker configured by --amqp-url or AMQP_URL. */
  openPublisher(settings?: PublisherSettings): Promise<MeasurePublisher>;
  /**
   * For kinds declared `durable`: opens the journal in --journal-dir, starts forwarding it to the
   * broker (reconnecting as needed) and, with --metrics-port, serves /metrics, /healthz and
   * /readyz. The kind hands its readings to `sink` and calls `stop()` once it takes no more.
   */
  startStoreAndForward(): Promise<StoreAndForward>;
}

export interface AdapterKind<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** One line for the list of kinds. */
  readonly summary: string;
  /** Paragraphs printed after the usage line of `<kind> --help`. */
  readonly description: string;
  readonly options: O;
  /**
   * A long-running kind that journals its readings to disk before acknowledging its device: adds
   * the journal options (--journal-dir, --journal-max-bytes, --metrics-port) and lets run() call
   * ctx.startStoreAndForward().
   */
  readonly durable?: boolean;
  /** Returns the exit code; throws UsageError for bad options. */
  run(values: OptionValues<O>, ctx: AdapterContext): Promise<number>;
}

export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** The environment to configure from; the process's when left out. */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}

/** A kind with its option types erased, so kinds of any options fit in one registry. */
export interface RegisteredKind {
  readonly name: string;
  readonly summary: string;
  help(program: string): string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

const COMMON_OPTIONS = {
  'amqp-url': {
    type: 'string',
    valueName: 'URL',
    description: 'broker to publish to (default: env AMQP_URL, else amqp://guest:guest@127.0.0.1:5672)',
  },
  'amqp-ca': {
    type: 'string',
    valueName: 'PATH',
    description: 'PEM file of the CA(s) to trust for an amqps:// broker (default: the system CAs)',
  },
  'skip-declare': {
    type: 'boolean',
    description: 'do not declare exchange and queues (for a user without the configure permission)',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies OptionSpecs;

const DEFAULT_JOURNAL_MAX_BYTES = 1024 ** 3;

/** The options of durable kinds (see AdapterKind.durable). */
const JOURNAL_OPTIONS = {
  'journal-dir': {
    type: 'string',
    valueName: 'DIR',
    description: 'directory of the disk journal readings wait in until the broker confirms them (required)',
  },
  'journal-max-bytes': {
    type: 'string',
    valueName: 'SIZE',
    description: 'most disk the journal may use, e.g. 512M or 2G (default 1G); when full, devices are told to retry later',
  },
  'metrics-port': {
    type: 'string',
    valueName: 'PORT',
    description: 'serve /metrics (Prometheus), /healthz and /readyz on this port (default: none)',
  },
} as const satisfies OptionSpecs;

const SIZE = /^(\d+)\s*([KMGT]?)(i?B)?$/i;

/** Bytes of a size like 65536, 64K, 512M, 2G or 1GiB (binary multiples). */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Number.isSafeInteger(n) ? n : undefined;
}

function portOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`--${name} must be a port number from 0 to 65535`);
  return n;
}

function readCa(file: string | undefined, amqpUrl: string): Buffer | undefined {
  if (file === undefined) return undefined;
  if (new URL(amqpUrl).protocol !== 'amqps:') throw new UsageError('--amqp-ca needs an amqps:// broker URL');
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read --amqp-ca ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--amqp-ca ${file} holds no PEM certificate`);
  return pem;
}

function formatOptions(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.valueName ? ` ${spec.valueName}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`).join('\n');
}

export function defineKind<O extends OptionSpecs>(kind: AdapterKind<O>): RegisteredKind {
  for (const name of Object.keys(kind.options)) {
    if (name in COMMON_OPTIONS || (kind.durable && name in JOURNAL_OPTIONS)) throw new Error(`adapter ${kind.name}: option --${name} is reserved`);
  }
  const all: OptionSpecs = { ...kind.options, ...(kind.durable ? JOURNAL_OPTIONS : {}), ...COMMON_OPTIONS };
  const parseOptions = Object.fromEntries(
    Object.entries(all).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
  );
  return {
    name: kind.name,
    summary: kind.summary,
    help: (program) =>
      `Usage: ${program} ${kind.name} [options]\n\n${kind.description.trim()}\n\nOptions:\n${formatOptions(all)}\n`,
    run: async (args, io) => {
      let parsed: ReturnType<typeof parseArgs>;
      try {
        parsed = parseArgs({ args: [...args], options: parseOptions, strict: true, allowPositionals: false });
      } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      }
      // parseArgs checked every value against the declared type, which is what OptionValues says.
      const values = parsed.values as OptionValues<O>;
      const common = parsed.values as OptionValues<typeof COMMON_OPTIONS>;
      const config = loadAdapterConfig(io.env, common['amqp-url']);
      const amqpUrl = config.amqpUrl;
      const declareTopology = !common['skip-declare'];
      const ca = readCa(common['amqp-ca'], amqpUrl);
      const openPublisher = (settings: PublisherSettings = {}): Promise<MeasurePublisher> =>
        MeasurePublisher.connect({
          url: amqpUrl,
          connectionName: `mymonit-adapter-${kind.name}`,
          declareTopology,
          ...settings,
          // amqplib hands socketOptions to tls.connect for amqps:// URLs.
          ...(ca ? { socketOptions: { ca: [ca] } } : {}),
        });
      const journal = kind.durable ? journalSettings(parsed.values) : undefined;
      return kind.run(values, {
        stdin: io.stdin,
        stderr: io.stderr,
        signal: io.signal,
        openPublisher,
        startStoreAndForward: () => {
          if (!journal) return Promise.reject(new Error(`adapter ${kind.name} is not declared durable`));
          return startStoreAndForward({
            kind: kind.name,
            ...journal,
            logLevel: config.logLevel,
            connect: () => openPublisher(),
          });
        },
      });
    },
  };
}

interface JournalSettings {
  readonly journalDir: string;
  readonly journalMaxBytes: number;
  readonly metricsPort: number | undefined;
}

function journalSettings(values: OptionValues<typeof JOURNAL_OPTIONS>): JournalSettings {
  const journalDir = values['journal-dir'];
  if (journalDir === undefined || journalDir.trim() === '') throw new UsageError('--journal-dir is required');
  const sizeText = values['journal-max-bytes'];
  const journalMaxBytes = sizeText === undefined ? DEFAULT_JOURNAL_MAX_BYTES : parseByteSize(sizeText);
  if (journalMaxBytes === undefined || journalMaxBytes < 64 * 1024) {
    throw new UsageError('--journal-max-bytes must be a size of at least 64K, e.g. 64K, 512M, 2G');
  }
  return { journalDir, journalMaxBytes, metricsPort: portOption('metrics-port', values['metrics-port']) };
}

function topHelp(program: string, kinds: readonly RegisteredKind[]): string {
  const width = Math.max(...kinds.map((k) => k.name.length)) + 2;
  return [
    `Usage: ${program} <kind> [options]`,
    '',
    'Reads measures from a device or a file and publishes them to RabbitMQ (exchange "mymonit",',
    'routing key "measures") with publisher confirms.',
    '',
    'Kinds:',
    ...kinds.map((k) => `  ${k.name.padEnd(width)}${k.summary}`),
    '',
    `Run "${program} <kind> --help" for the options of a kind.`,
    '',
  ].join('\n');
}

/** Runs `<kind> [options]`; returns the exit code. Never throws. */
export async function runCli(program: string, argv: readonly string[], kinds: readonly RegisteredKind[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const out = first === undefined ? io.stderr : io.stdout;
    out.write(topHelp(program, kinds));
    return first === undefined ? EXIT.failure : EXIT.ok;
  }
  const kind = kinds.find((k) => k.name === first);
  if (!kind) {
    io.stderr.write(`error: unknown adapter kind "${first}"; kinds: ${kinds.map((k) => k.name).join(', ')}\n`);
    return EXIT.failure;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(kind.help(program));
    return EXIT.ok;
  }
  try {
    return await kind.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\nRun "${program} ${kind.name} --help" for usage.\n`);
    } else if (err instanceof ConfigError) {
      io.stderr.write(`error: ${err.message}\n`);
    } else {
      io.stderr.write(`error: ${redactString(err instanceof Error ? err.message : String(err))}\n`);
    }
    return EXIT.failure;
  }
}
