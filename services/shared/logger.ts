import winston from 'winston';
import { ecsFields, ecsStringify } from '@elastic/ecs-winston-format';
import { logContext } from './context';

export type Logger = winston.Logger;

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|credential/i;
// user:password@ in any URL-looking string (amqp://, mysql://, https://).
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;

export function redactString(s: string): string {
  return s.replace(URL_CREDENTIALS, '$1***@').replace(BEARER, '$1***');
}

/** Deep copy with secret-looking keys masked and credentials stripped from strings. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? '[REDACTED]' : redact(v, depth + 1);
  }
  return out;
}

/** The one redaction format: every transport sees only redacted records. */
const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = info[key];
    if (key === 'level') continue;
    info[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? '[REDACTED]' : redact(v);
  }
  if (info.err instanceof Error) {
    info.err.message = redactString(info.err.message);
    if (info.err.stack) info.err.stack = redactString(info.err.stack);
  }
  return info;
});

const contextFormat = winston.format((info) => {
  const ctx = logContext.getStore();
  if (ctx?.requestId) info['http.request.id'] = ctx.requestId;
  if (ctx?.messageId) info['message.id'] = ctx.messageId;
  if (ctx?.userId) info['user.id'] = ctx.userId;
  return info;
});

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
  readonly transports?: winston.transport[];
}

export function createLogger(opts: LoggerOptions): Logger {
  return winston.createLogger({
    level: opts.level,
    format: winston.format.combine(
      contextFormat(),
      redactFormat(),
      ecsFields({ serviceName: opts.service, convertReqRes: false }),
      ecsStringify(),
    ),
    transports: [new winston.transports.Console(), ...(opts.transports ?? [])],
  });
}

/** Resolves once every transport has written what it holds (call last, on shutdown). */
export async function flushLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 2000).unref();
  });
}
