import type { MeasureKey } from '../../../db/src/repositories/records';
import { ValidationError } from '../../shared/errors';
import { decodeMeasureCursor, encodeMeasureCursor } from '../domain/cursor';
import type { Authenticator } from '../auth/authenticator';
import type { LiveEvent, LiveMeasureService } from '../domain/live-measures.service';
import { keyBefore } from '../domain/live-measures.service';
import { route } from '../http/route';
import type { RouteDefinition } from '../http/route';
import { measureJsonText } from './presenters';
import { experimentParams, streamQuery } from './schemas';

export const SSE_TYPE = 'text/event-stream';

/** How long an EventSource waits before reconnecting after the stream breaks. */
const RECONNECT_MS = 2000;

/** One Server-Sent Events chunk per domain event; JSON never holds a raw newline, so data stays one line. */
export function sseChunk(e: LiveEvent): string {
  switch (e.kind) {
    case 'start':
      return `retry: ${RECONNECT_MS}\nid: ${encodeMeasureCursor(e.after)}\n\n`;
    case 'measures': {
      let out = '';
      for (const m of e.rows) {
        out += `id: ${encodeMeasureCursor(m)}\ndata: ${measureJsonText(m)}\n\n`;
      }
      return out;
    }
    case 'heartbeat':
      return ': heartbeat\n\n';
    case 'end':
      return `event: end\ndata: ${JSON.stringify({ reason: e.reason })}\n\n`;
  }
}

/**
 * The events as SSE text. A plain iterator rather than a generator: closing it must reach the
 * domain iterator even when nothing was read yet (a HEAD request), which gives the stream slot back.
 */
function sseText(events: AsyncIterableIterator<LiveEvent>): AsyncIterableIterator<string> {
  const it: AsyncIterableIterator<string> = {
    [Symbol.asyncIterator]: () => it,
    next: async () => {
      const r = await events.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: sseChunk(r.value) };
    },
    return: async () => {
      await events.return?.();
      return { done: true, value: undefined };
    },
  };
  return it;
}

function lastEventId(header: string | undefined): MeasureKey | undefined {
  if (header === undefined || header === '') return undefined;
  try {
    return decodeMeasureCursor(header.trim());
  } catch {
    throw new ValidationError('invalid Last-Event-ID', [{ field: 'Last-Event-ID', message: 'is not an event id of this stream' }]);
  }
}

/**
 * `authenticator` lets a long-lived stream authenticate its caller again with the credentials it
 * opened with, so a revoked token or a removed user ends it before the token's expiry.
 */
export function measureStreamRoutes(live: LiveMeasureService, authenticator?: Authenticator): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/measures/:experiment_id/stream',
      action: 'measures.stream',
      allow: 'ASSOCIATED_SCIENTIST',
      summary: 'New measures of one experiment as they are stored, as Server-Sent Events',
      description:
        'Each measure is one event: `data` is the measure as GET /measures/{experiment_id} returns it, `id` the ' +
        'position after it. The stream starts now (measures timestamped from now on), at `since`, or, on ' +
        'reconnection, after the `Last-Event-ID` header, which takes precedence; the first event carries only the ' +
        'starting `id`, so a reconnection without any measure received resumes where the stream began. ' +
        'Measures come in (timestamp, measure type, source) order; the server looks for new ones about every ' +
        'second. Order follows the measures’ own timestamps: a measure stored after measures with later ' +
        'timestamps were sent (late-arriving data, e.g. a device replaying its journal) is not streamed; read ' +
        'the range with GET /measures/{experiment_id} when every row matters. A comment line is sent after 15 s ' +
        'without events. The server ends the stream with an `end` event whose data is ' +
        '`{"reason": "token_expired" | "token_revoked" | "access_revoked" | "shutdown"}`: when the ID token expires ' +
        '(reconnect with a fresh token and the last event id), when it was revoked or the account removed (checked ' +
        'every API_STREAM_ACCESS_RECHECK_MS, 15 s by default; sign in again), when the caller is no longer associated with the experiment, or ' +
        'when the server stops (reconnect). At most API_STREAM_MAX_PER_USER (default 5) open streams per user (429 beyond).',
      alsoProduces: [SSE_TYPE],
      params: experimentParams,
      query: streamQuery,
      target: { type: 'experiment', param: 'experiment_id' },
      handler: async ({ actor, meta, params, query, header, signal }) => {
        const after = lastEventId(header('last-event-id')) ?? (query.since === undefined ? undefined : keyBefore(query.since));
        const authorization = header('authorization');
        const reauthenticate = authenticator ? () => authenticator.authenticate(authorization) : undefined;
        const events = await live.open(
          actor,
          meta,
          { experimentId: params.experiment_id, measure: query.measure, source: query.source },
          after,
          signal,
          reauthenticate,
        );
        return {
          contentType: `${SSE_TYPE}; charset=utf-8`,
          // nginx would otherwise hold events back in its response buffer.
          headers: { 'X-Accel-Buffering': 'no' },
          stream: sseText(events),
        };
      },
    }),
  ];
}
