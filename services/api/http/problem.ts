import type { FieldError } from '../../shared/errors';
import { DomainError, MethodNotAllowedError, TooManyRequestsError } from '../../shared/errors';

/** RFC 9457 problem details, as every error response of the API carries them. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly request_id: string;
  readonly errors?: readonly FieldError[];
}

export interface ProblemResponse {
  readonly problem: Omit<Problem, 'instance' | 'request_id'>;
  readonly headers: Record<string, string>;
  /** True when the error is ours (a bug or an outage), so it is logged with its stack. */
  readonly unexpected: boolean;
}

const SLUGS: Record<number, string> = {
  400: 'invalid-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  500: 'internal-error',
  503: 'service-unavailable',
};

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

function problemType(status: number): string {
  return `urn:mymonit:problem:${SLUGS[status] ?? `http-${status}`}`;
}

/** body-parser and router errors carry `type`, `status` and `expose`; their messages may quote the body. */
const HTTP_ERROR_DETAILS: Record<string, string> = {
  'entity.parse.failed': 'the request body is not valid JSON',
  'entity.too.large': 'the request body is too large',
  'encoding.unsupported': 'the request body has an unsupported content encoding',
  'charset.unsupported': 'the request body has an unsupported charset; use UTF-8',
  'request.aborted': 'the request was aborted',
  'request.size.invalid': 'the request body length does not match Content-Length',
  'parameters.too.many': 'the request has too many parameters',
};

interface HttpishError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  code?: unknown;
}

/**
 * Driver and socket error codes meaning the database cannot answer now (down, restarting, out of
 * connections, or a transaction lost to a deadlock): the client may retry, so 503, not 500.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
]);

/** Maps any thrown value to a problem: typed domain errors, HTTP-library errors, or a 500. */
export function toProblem(err: unknown): ProblemResponse {
  if (err instanceof DomainError) {
    const headers: Record<string, string> = {};
    if (err instanceof MethodNotAllowedError) headers.Allow = err.allow.join(', ');
    if (err instanceof TooManyRequestsError) headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
    if (err.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="mymonit"';
    const errors = (err as { errors?: readonly FieldError[] }).errors;
    return {
      problem: {
        type: problemType(err.status),
        title: err.title,
        status: err.status,
        detail: err.message,
        ...(errors && errors.length ? { errors } : {}),
      },
      headers,
      unexpected: err.status >= 500,
    };
  }
  const h = (err ?? {}) as HttpishError;
  if (typeof h.code === 'string' && UNAVAILABLE_CODES.has(h.code)) {
    return {
      problem: {
        type: problemType(503),
        title: TITLES[503],
        status: 503,
        detail: 'the database is unavailable; retry later',
      },
      headers: { 'Retry-After': '5' },
      unexpected: true,
    };
  }
  const status = typeof h.status === 'number' ? h.status : typeof h.statusCode === 'number' ? h.statusCode : 500;
  if (status >= 400 && status < 500 && h.expose !== false) {
    const detail = (typeof h.type === 'string' && HTTP_ERROR_DETAILS[h.type]) || TITLES[status] || 'the request cannot be processed';
    return {
      problem: { type: problemType(status), title: TITLES[status] ?? 'Client error', status, detail },
      headers: {},
      unexpected: false,
    };
  }
  return {
    problem: {
      type: problemType(500),
      title: TITLES[500],
      status: 500,
      detail: 'an unexpected error occurred; quote the request id when reporting it',
    },
    headers: {},
    unexpected: true,
  };
}
