import { once } from '../../services/shared/lifecycle';
import { createLogger, flushLogger } from '../../services/shared/logger';
import type { Logger } from '../../services/shared/logger';
import { createMetrics } from '../../services/shared/metrics';
import type { Metrics } from '../../services/shared/metrics';
import { OpsServer } from '../../services/shared/ops-server';
import { AdapterMetrics } from './adapter-metrics';
import type { DurableSink } from './durable-sink';
import { Forwarder } from './forwarder';
import type { MessagePublisher } from './forwarder';
import { Journal } from './journal';

/**
 * The store-and-forward pipeline of a long-running adapter: the journal its readings go to, the
 * forwarder that moves them to the broker, and, with a metrics port, /healthz, /readyz and
 * /metrics. The adapter hands readings to `sink` and answers its device once `append` resolved.
 */

export interface StoreAndForwardOptions {
  /** The adapter kind, for the logger, the metrics and the connection name. */
  readonly kind: string;
  readonly journalDir: string;
  readonly journalMaxBytes: number;
  /** Serve /metrics, /healthz and /readyz on this port (0: any free port); none when undefined. */
  readonly metricsPort: number | undefined;
  readonly metricsHost?: string;
  readonly logLevel: string;
  /** Opens a publisher (a new connection) each time the forwarder (re)connects. */
  readonly connect: () => Promise<MessagePublisher>;
}

export interface StoreAndForward {
  readonly sink: DurableSink;
  readonly journal: Journal;
  readonly forwarder: Forwarder;
  /** The registry /metrics serves: the adapter may register its own metrics on it. */
  readonly metrics: Metrics;
  /** JSON (ECS) logs on stdout. */
  readonly logger: Logger;
  /** The port /metrics listens on, if any. */
  readonly metricsPort: number | undefined;
  /** Adds a check to /readyz: it returns why the adapter cannot take readings, or undefined. */
  addReadinessCheck(check: () => string | undefined): void;
  /**
   * Waits for the confirms in flight, saves the checkpoint, closes the journal and the ops port,
   * flushes the log. Call after the adapter stopped taking readings. Idempotent.
   */
  stop(): Promise<void>;
}

export async function startStoreAndForward(opts: StoreAndForwardOptions): Promise<StoreAndForward> {
  const logger = createLogger({ service: `mymonit-adapter-${opts.kind}`, level: opts.logLevel });
  const metrics = createMetrics(`adapter-${opts.kind}`);
  const adapterMetrics = new AdapterMetrics(metrics);
  let journal: Journal;
  try {
    journal = await Journal.open({
      dir: opts.journalDir,
      maxBytes: opts.journalMaxBytes,
      observer: adapterMetrics.journalObserver,
      onWarning: (message, details) => logger.warn(message, { ...details, journalDir: opts.journalDir }),
    });
  } catch (err) {
    await flushLogger(logger);
    throw new Error(`cannot open the journal in ${opts.journalDir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  adapterMetrics.watch(journal);
  const stats = journal.stats;
  logger.info('journal opened', {
    journalDir: opts.journalDir,
    journalId: journal.id,
    bytes: stats.bytes,
    maxBytes: stats.maxBytes,
    unsentBytes: stats.unconfirmedBytes,
    truncatedOnOpen: stats.truncatedOnOpen,
  });

  const forwarder = new Forwarder(journal, opts.connect, { log: logger, observer: adapterMetrics.forwarderObserver });
  const checks: Array<() => string | undefined> = [() => journal.unavailableReason];
  let ops: OpsServer | undefined;
  let metricsPort: number | undefined;
  if (opts.metricsPort !== undefined) {
    ops = new OpsServer(metrics, { notReadyReason: () => checks.map((c) => c()).find((r) => r !== undefined) });
    try {
      metricsPort = await ops.listen(opts.metricsPort, opts.metricsHost);
    } catch (err) {
      await journal.close();
      await flushLogger(logger);
      throw new Error(`cannot listen on metrics port ${opts.metricsPort}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    logger.info('ops port listening', { port: metricsPort });
  }
  forwarder.start();

  const stop = once(async () => {
    try {
      await forwarder.stop();
      await journal.close();
      logger.info('adapter stopped', { unsentBytes: journal.stats.unconfirmedBytes });
    } finally {
      await ops?.close();
      await flushLogger(logger);
    }
  });
  return {
    sink: journal,
    journal,
    forwarder,
    metrics,
    logger,
    metricsPort,
    addReadinessCheck: (check) => checks.push(check),
    stop,
  };
}
