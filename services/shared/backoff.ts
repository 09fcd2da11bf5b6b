import { backOff } from 'exponential-backoff';

export interface RetryOptions {
  readonly startingDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Called before each retry; return false to give up (the last error is thrown). */
  readonly shouldRetry?: (err: unknown, attempt: number) => boolean;
}

/** Retries fn forever (unless shouldRetry says stop) with capped, jittered exponential backoff. */
export function retryForever<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  return backOff(fn, {
    numOfAttempts: Number.MAX_SAFE_INTEGER,
    startingDelay: opts.startingDelayMs ?? 100,
    maxDelay: opts.maxDelayMs ?? 5_000,
    timeMultiple: 2,
    jitter: 'full',
    delayFirstAttempt: false,
    retry: (err: unknown, attempt: number) => opts.shouldRetry?.(err, attempt) ?? true,
  });
}
