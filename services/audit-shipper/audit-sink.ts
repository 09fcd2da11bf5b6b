import type { OutboxEvent } from '../../db/src/repositories/audit-outbox.repository';

/** Where audit events go. The shipper knows only this port; main.ts wires Elasticsearch to it. */
export interface AuditSink {
  /** Creates or replaces what the sink needs before the first event (the index template). */
  prepare(): Promise<void>;
  /** One result per event, in the order given. Throws SinkError when nothing could be sent. */
  send(events: readonly OutboxEvent[]): Promise<ItemResult[]>;
}

export type ItemResult =
  /** The sink has stored the event: it may be marked shipped. */
  | { readonly id: string; readonly result: 'stored' }
  /** Not stored this time (overload, a shard unavailable…): send again later. */
  | { readonly id: string; readonly result: 'retry'; readonly reason: string }
  /** The sink refuses this document as it is (a mapping error…): sending it again cannot help. */
  | { readonly id: string; readonly result: 'rejected'; readonly reason: string };

/** The sink could not be reached, or refused the request as a whole. */
export class SinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkError';
  }
}
