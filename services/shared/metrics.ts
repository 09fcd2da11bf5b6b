import { Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process; components add their own counters to it. */
export interface Metrics {
  readonly registry: Registry;
}

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return { registry };
}
