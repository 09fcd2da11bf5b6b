import type { Measure } from '../../services/shared/measure-contract';

/**
 * What a device-facing adapter hands its readings to. `append` resolves only once the measures are
 * durable on disk (the journal), so the adapter may acknowledge its source (HTTP 204, MQTT PUBACK)
 * right after; publishing to RabbitMQ happens later, from the journal, with confirms.
 */
export interface DurableSink {
  append(measures: readonly Measure[]): Promise<void>;
}

/**
 * The journal holds as many bytes as it may: the source must slow down and try again later (HTTP
 * 503 + Retry-After, MQTT: no PUBACK). Nothing already accepted is dropped to make room.
 */
export class JournalFullError extends Error {
  constructor(
    readonly journalBytes: number,
    readonly maxBytes: number,
    /** A hint for Retry-After. */
    readonly retryAfterSeconds = 5,
  ) {
    super(`journal full: ${journalBytes} of ${maxBytes} bytes used; retry later`);
    this.name = 'JournalFullError';
  }
}
