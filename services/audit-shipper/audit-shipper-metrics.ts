import { Counter, Gauge, Histogram } from 'prom-client';
import { inject, injectable } from 'tsyringe';
import type { Metrics } from '../shared/metrics';
import { TOKENS } from '../shared/tokens';

/** What the audit shipper exposes on /metrics. */
@injectable()
export class AuditShipperMetrics {
  readonly shipped: Counter;
  readonly failed: Counter<'kind'>;
  readonly parked: Counter;
  readonly bulkSeconds: Histogram;
  readonly lagSeconds: Gauge;
  readonly pending: Gauge;
  readonly parkedRows: Gauge;

  constructor(@inject(TOKENS.Metrics) metrics: Metrics) {
    const registers = [metrics.registry];
    this.shipped = new Counter({
      name: 'mymonit_audit_events_shipped_total',
      help: 'Audit events stored by Elasticsearch and marked shipped',
      registers,
    });
    this.failed = new Counter({
      name: 'mymonit_audit_events_failed_total',
      help: 'Audit event sends that failed and will be retried: kind=item (refused one by one, e.g. 429) or request (the whole bulk request failed)',
      labelNames: ['kind'],
      registers,
    });
    // Both series exist from the start, so a rate() over them is never empty.
    this.failed.labels('item');
    this.failed.labels('request');
    this.parked = new Counter({
      name: 'mymonit_audit_events_parked_total',
      help: 'Audit events Elasticsearch refused as documents (e.g. mapping errors), set aside with their reason',
      registers,
    });
    this.bulkSeconds = new Histogram({
      name: 'mymonit_audit_bulk_seconds',
      help: 'Time of one bulk send to Elasticsearch',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'mymonit_audit_lag_seconds',
      help: 'Age of the oldest audit event not yet shipped (0 when none)',
      registers,
    });
    this.pending = new Gauge({
      name: 'mymonit_audit_pending_events',
      help: 'Audit events waiting to be shipped (counted up to 1,000,000)',
      registers,
    });
    this.parkedRows = new Gauge({
      name: 'mymonit_audit_parked_events',
      help: 'Audit events currently parked in the database',
      registers,
    });
  }
}
