import { ApiError, SessionExpiredError } from './api';
import type { Api } from './api';
import { list, measure } from './models';
import type { Measure } from './models';
import { sseEvents } from './sse';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

export interface LiveHandlers {
  readonly onMeasures: (measures: Measure[]) => void;
  readonly onState: (state: LiveState, detail?: string) => void;
}

/** A silent connection past this is presumed dead (the API sends heartbeats well within it). */
const WATCHDOG_MS = 45_000;
const MAX_BACKOFF_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = window.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      window.clearTimeout(t);
      resolve();
    });
  });
}

function measuresOf(data: string): Measure[] {
  const v = JSON.parse(data) as unknown;
  return Array.isArray(v) ? list(v, 'measures', measure) : [measure(v)];
}

/**
 * New measures of one experiment from GET /measures/{id}/stream until `signal` aborts. Reconnects
 * with capped, jittered backoff, a fresh token each time (the API closes a stream when its token
 * expires) and Last-Event-ID, so a server that numbers its events can replay what was missed.
 */
export async function followMeasures(api: Api, experimentId: number, signal: AbortSignal, on: LiveHandlers): Promise<void> {
  let lastId: string | undefined;
  /** The server's `retry`, once it has sent one. */
  let reconnectMs = 1000;
  let backoff = reconnectMs;
  let first = true;
  while (!signal.aborted) {
    on.onState(first ? 'connecting' : 'reconnecting');
    first = false;
    const connection = new AbortController();
    const stop = (): void => connection.abort();
    signal.addEventListener('abort', stop);
    let watchdog = window.setTimeout(stop, WATCHDOG_MS);
    try {
      const res = await api.send('GET', `/measures/${experimentId}/stream`, {
        accept: 'text/event-stream',
        headers: lastId === undefined ? {} : { 'last-event-id': lastId },
        signal: connection.signal,
      });
      if (!res.body || !/^text\/event-stream/.test(res.headers.get('content-type') ?? '')) {
        await res.body?.cancel();
        on.onState('unavailable', 'The API does not offer a live stream.');
        return;
      }
      on.onState('live');
      for await (const ev of sseEvents(res.body)) {
        window.clearTimeout(watchdog);
        watchdog = window.setTimeout(stop, WATCHDOG_MS);
        if (ev.retry !== undefined) reconnectMs = Math.min(Math.max(ev.retry, 250), MAX_BACKOFF_MS);
        backoff = reconnectMs;
        if (ev.id !== undefined) lastId = ev.id;
        if (ev.data === undefined) continue;
        if (ev.event === 'end') {
          // The server ends a stream when the token expires or the server stops (reconnect, with a
          // fresh token and the last id) or when the person lost access (stop).
          if (/"access_revoked"/.test(ev.data)) {
            on.onState('unavailable', 'Your access to this experiment has been removed.');
            return;
          }
          continue;
        }
        if (ev.event !== 'message') continue;
        let measures: Measure[];
        try {
          measures = measuresOf(ev.data);
        } catch (err) {
          // One malformed event must not end the stream; the console keeps it for whoever debugs.
          console.warn('ignored a live event that is not a measure', ev, err);
          continue;
        }
        on.onMeasures(measures);
      }
    } catch (err) {
      if (signal.aborted || err instanceof SessionExpiredError) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429 && err.status !== 408) {
        on.onState('unavailable', err.detail);
        return;
      }
    } finally {
      window.clearTimeout(watchdog);
      signal.removeEventListener('abort', stop);
    }
    if (signal.aborted) return;
    on.onState('reconnecting');
    await sleep(backoff * (0.75 + Math.random() * 0.5), signal);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}
