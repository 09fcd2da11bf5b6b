import { setTimeout as delay } from 'node:timers/promises';
import type { InjectionToken } from 'tsyringe';

/** Time as long-running domain work sees it; tests substitute a clock they move by hand. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after ms, or early (without rejecting) when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    if (signal.aborted) return;
    try {
      await delay(ms, undefined, { signal });
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  },
};

export const CLOCK: InjectionToken<Clock> = Symbol('Clock');
