import { errors } from '@elastic/elasticsearch';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { OutboxEvent } from '../../db/src/repositories/audit-outbox.repository';
import { auditIndexFor, toAuditDocument } from './audit-document';
import { auditIndexTemplate } from './audit-index-template';
import { SinkError } from './audit-sink';
import type { AuditSink, ItemResult } from './audit-sink';

/** Elasticsearch's default http.max_content_length is 100 MB; stay far below it. */
const DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/**
 * Sends audit events with the bulk API, one `index` operation per event with the row id as _id:
 * sending an event twice (after a crash, a lost response or a lease handed over) rewrites the same
 * document instead of adding one. Each item's status decides the row's fate; a request that fails
 * as a whole is a SinkError and nothing of it counts as stored.
 */
export class ElasticsearchBulkSender implements AuditSink {
  constructor(
    private readonly client: Client,
    private readonly maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES,
  ) {}

  async prepare(): Promise<void> {
    try {
      await this.client.indices.putIndexTemplate(auditIndexTemplate());
    } catch (err) {
      throw new SinkError(`cannot install the audit index template: ${describe(err)}`);
    }
  }

  async send(events: readonly OutboxEvent[]): Promise<ItemResult[]> {
    const results: ItemResult[] = [];
    for (const chunk of this.chunks(events)) {
      try {
        results.push(...(await this.sendChunk(chunk)));
      } catch (err) {
        const reason = describe(err);
        // The first request failing means nothing was sent; later ones still let the earlier
        // chunks' results count.
        if (results.length === 0) throw new SinkError(reason);
        results.push(...chunk.map(({ event }) => ({ id: event.id, result: 'retry' as const, reason })));
      }
    }
    return results;
  }

  private *chunks(events: readonly OutboxEvent[]): Generator<Array<{ event: OutboxEvent; operations: [estypes.BulkOperationContainer, unknown] }>> {
    let chunk: Array<{ event: OutboxEvent; operations: [estypes.BulkOperationContainer, unknown] }> = [];
    let bytes = 0;
    for (const event of events) {
      const doc = toAuditDocument(event);
      const action: estypes.BulkOperationContainer = { index: { _index: auditIndexFor(event.occurredAt), _id: event.id } };
      const size = JSON.stringify(action).length + JSON.stringify(doc).length + 2;
      if (chunk.length > 0 && bytes + size > this.maxRequestBytes) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push({ event, operations: [action, doc] });
      bytes += size;
    }
    if (chunk.length > 0) yield chunk;
  }

  private async sendChunk(chunk: Array<{ event: OutboxEvent; operations: [estypes.BulkOperationContainer, unknown] }>): Promise<ItemResult[]> {
    const response = await this.client.bulk({
      operations: chunk.flatMap((c) => c.operations),
      filter_path: ['errors', 'items.*._id', 'items.*.status', 'items.*.error'],
    });
    return chunk.map(({ event }, i) => itemResult(event.id, response.items?.[i]?.index));
  }
}

function itemResult(id: string, item: estypes.BulkResponseItem | undefined): ItemResult {
  if (item === undefined || (item._id !== undefined && item._id !== null && item._id !== id)) {
    return { id, result: 'retry', reason: 'no matching item in the bulk response' };
  }
  if (item.status >= 200 && item.status < 300) return { id, result: 'stored' };
  const reason = `${item.status} ${describeCause(item.error)}`;
  // 429 is back-pressure, 408 and 5xx are the cluster's trouble (unavailable shards, timeouts):
  // the document itself is fine. Any other 4xx is about the document, e.g. a mapping conflict.
  const transient = item.status === 429 || item.status === 408 || item.status >= 500;
  return { id, result: transient ? 'retry' : 'rejected', reason };
}

function describeCause(cause: estypes.ErrorCause | undefined): string {
  if (cause === undefined) return 'no error detail';
  const parts = [`${cause.type}${cause.reason ? `: ${cause.reason}` : ''}`];
  if (cause.caused_by) parts.push(`caused by ${describeCause(cause.caused_by)}`);
  return parts.join('; ');
}

function describe(err: unknown): string {
  if (err instanceof errors.ResponseError) {
    const body: unknown = err.meta.body;
    const cause = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
    const detail = typeof cause === 'object' && cause !== null && 'type' in cause ? describeCause(cause as estypes.ErrorCause) : err.message;
    return `Elasticsearch answered ${err.statusCode ?? 'an error'}: ${detail}`;
  }
  if (err instanceof errors.ElasticsearchClientError) {
    // Without the socket's local port, one outage gives one reason rather than one per attempt.
    return `Elasticsearch unreachable: ${err.name}: ${err.message.replace(/ - Local: .*$/, '')}`;
  }
  return err instanceof Error ? err.message : String(err);
}
