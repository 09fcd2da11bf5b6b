import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request or per-message context carried into every log line. */
export interface LogContext {
  readonly requestId?: string;
  readonly messageId?: string;
  readonly userId?: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...ctx }, fn);
}
