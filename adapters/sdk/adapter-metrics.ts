import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../services/shared/metrics';
import type { ForwarderObserver } from './forwarder';
import type { Journal, JournalObserver } from './journal';

/**
 * Prometheus metrics of a long-running adapter's journal and forwarder, on the registry its ops
 * port serves. Backlog and age are read from the journal when scraped; the rest count events.
 */
export class AdapterMetrics {
  readonly journalObserver: JournalObserver;
  readonly forwarderObserver: ForwarderObserver;
  private journal: Journal | undefined;
  private connected = false;

  constructor(metrics: Metrics) {
    const registers = [metrics.registry];
    const counter = (name: string, help: string): Counter => new Counter({ name: `mymonit_adapter_${name}`, help, registers });
    const appendedRecords = counter('journal_appended_records_total', 'Records (appends) written to the journal');
    const appendedMeasures = counter('journal_appended_measures_total', 'Measures written to the journal');
    const syncs = counter('journal_syncs_total', 'fsyncs of the journal (one per group commit)');
    const full = counter('journal_full_rejections_total', 'Appends refused because the journal was full');
    const corrupt = counter('journal_corrupt_bytes_total', 'Bytes of closed segments skipped as unreadable');
    const publishedMessages = counter('published_messages_total', 'Messages published to the broker (replays included)');
    const publishedMeasures = counter('published_measures_total', 'Measures published to the broker (replays included)');
    const confirmedMessages = counter('confirmed_messages_total', 'Messages confirmed by the broker');
    const confirmedMeasures = counter('confirmed_measures_total', 'Measures confirmed by the broker');
    const returned = counter('returned_messages_total', 'Messages returned by the broker as unroutable (re-sent later)');
    const nacked = counter('nacked_messages_total', 'Messages refused by the broker (re-sent later)');
    const connects = counter('broker_connects_total', 'Connections made to the broker');

    this.journalObserver = {
      appended: (records, measures) => {
        appendedRecords.inc(records);
        appendedMeasures.inc(measures);
      },
      synced: () => syncs.inc(),
      rejectedFull: () => full.inc(),
      skippedCorrupt: (bytes) => corrupt.inc(bytes),
    };
    this.forwarderObserver = {
      connected: () => {
        this.connected = true;
        connects.inc();
      },
      disconnected: () => {
        this.connected = false;
      },
      published: (messages, measures) => {
        publishedMessages.inc(messages);
        publishedMeasures.inc(measures);
      },
      confirmed: (messages, measures) => {
        confirmedMessages.inc(messages);
        confirmedMeasures.inc(measures);
      },
      returned: () => returned.inc(),
      nacked: () => nacked.inc(),
    };

    const gauge = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>): void => {
      const g: Gauge = new Gauge({
        name: `mymonit_adapter_${name}`,
        help,
        registers,
        collect: async () => {
          const value = await read();
          if (value !== undefined) g.set(value);
        },
      });
    };
    gauge('journal_bytes', 'Bytes held by the journal (segment files and appends being written)', () => this.journal?.stats.bytes);
    gauge('journal_max_bytes', 'Most bytes the journal may hold (--journal-max-bytes)', () => this.journal?.stats.maxBytes);
    gauge('journal_unsent_bytes', 'Journal bytes not yet confirmed by the broker', () => this.journal?.stats.unconfirmedBytes);
    gauge('journal_segments', 'Segment files in the journal directory', () => this.journal?.stats.segments);
    gauge('journal_oldest_unsent_age_seconds', 'Age of the oldest reading not yet confirmed by the broker (0 when none)', async () => {
      if (!this.journal) return undefined;
      const appendedAt = await this.journal.oldestUnconfirmedAppendedAt().catch(() => undefined);
      return appendedAt === undefined ? 0 : Math.max(0, (Date.now() - appendedAt) / 1000);
    });
    gauge('broker_connected', '1 while the forwarder has a connection to the broker', () => (this.connected ? 1 : 0));
  }

  /** The journal whose size and backlog the gauges report. */
  watch(journal: Journal): void {
    this.journal = journal;
  }
}
