import { Counter, Gauge, Histogram } from 'prom-client';
import { inject, injectable } from 'tsyringe';
import type { Metrics } from '../shared/metrics';
import { TOKENS } from '../shared/tokens';

/** The counters ingest exposes on /metrics. */
@injectable()
export class IngestMetrics {
  readonly consumed: Counter;
  readonly stored: Counter;
  readonly rejected: Counter<'reason'>;
  readonly batches: Counter;
  readonly writeErrors: Counter;
  readonly flushSeconds: Histogram;
  readonly buffered: Gauge;

  constructor(@inject(TOKENS.Metrics) metrics: Metrics) {
    const registers = [metrics.registry];
    this.consumed = new Counter({ name: 'mymonit_ingest_messages_consumed_total', help: 'AMQP messages received', registers });
    this.stored = new Counter({ name: 'mymonit_ingest_measures_stored_total', help: 'Measures committed to MySQL', registers });
    this.rejected = new Counter({
      name: 'mymonit_ingest_measures_rejected_total',
      help: 'Measures or messages kept in rejected_measures, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.batches = new Counter({ name: 'mymonit_ingest_batches_total', help: 'Batches committed', registers });
    this.writeErrors = new Counter({
      name: 'mymonit_ingest_write_errors_total',
      help: 'Failed batch writes (each retried)',
      registers,
    });
    this.flushSeconds = new Histogram({
      name: 'mymonit_ingest_flush_seconds',
      help: 'Time to write and commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.buffered = new Gauge({
      name: 'mymonit_ingest_buffered_messages',
      help: 'Messages received and not yet committed',
      registers,
    });
  }
}
