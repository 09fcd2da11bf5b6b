import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../shared/metrics';

export interface HttpMetrics {
  observe(method: string, route: string, status: number, seconds: number): void;
}

/** Request count and latency by route template (never the raw path: ids would explode cardinality). */
export function createHttpMetrics(metrics: Metrics): HttpMetrics {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [metrics.registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics.registry],
  });
  return {
    observe(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/** Open Server-Sent Events streams, read when scraped. */
export function registerLiveStreamGauge(metrics: Metrics, open: () => number): void {
  new Gauge({
    name: 'api_live_streams_open',
    help: 'Server-Sent Events streams of measures open in this process',
    registers: [metrics.registry],
    collect() {
      this.set(open());
    },
  });
}
