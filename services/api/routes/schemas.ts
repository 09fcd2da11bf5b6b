import { z } from 'zod';
import { microsToSql, timestampToMicros } from '../../shared/measure-contract';
import { AGGREGATE_FUNCTIONS, MAX_BUCKETS, parseFunctions, parseInterval } from '../domain/aggregation';

/** Request schemas shared by the routes. Every object is strict: unknown fields are a 400. */

const required = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${expected}`;

/** A non-blank string, trimmed, at most max characters. */
export function text(max: number, min = 1) {
  return z
    .string({ error: required('a string') })
    .trim()
    .min(min, min === 1 ? 'must not be blank' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`);
}

export const userIdSchema = z
  .string({ error: required('a string') })
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, _ or -');

/** Firebase uids are up to 128 characters, printable, no spaces. */
export const usernameSchema = z
  .string({ error: required('a string') })
  .regex(/^[\x21-\x7e]{1,128}$/, 'must be a Firebase uid: 1 to 128 printable characters without spaces');

/** Deliberately loose (the original's Postman collection uses "foo@bar"): one @, no spaces. */
export const emailSchema = z
  .string({ error: required('a string') })
  .trim()
  .max(320, 'must be at most 320 characters')
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');

export const roleSchema = z.enum(['ADMIN', 'SCIENTIST'], { error: required('ADMIN or SCIENTIST') });

const idDigits = (what: string) =>
  z
    .string()
    .regex(/^[1-9]\d{0,9}$/, `must be a positive integer ${what}`)
    .transform(Number)
    .refine((n) => n <= 4294967295, `must be a positive integer ${what}`);

export const experimentIdSchema = idDigits('experiment id');

export const userParams = z.strictObject({ user_id: userIdSchema });
export const experimentParams = z.strictObject({ experiment_id: experimentIdSchema });
export const associationParams = z.strictObject({ experiment_id: experimentIdSchema, scientist_id: userIdSchema });

export const createUserBody = z.strictObject(
  { user_id: userIdSchema, name: text(255), username: usernameSchema, email: emailSchema, role: roleSchema },
  { error: required('a JSON object') },
);

export const updateUserBody = z.strictObject(
  { name: text(255), username: usernameSchema, email: emailSchema },
  { error: required('a JSON object') },
);

export const experimentBody = z.strictObject({ name: text(255) }, { error: required('a JSON object') });

export const measureTypeBody = z.strictObject(
  { name: text(64), symbol: text(16), quantity: text(128) },
  { error: required('a JSON object') },
);

/** One query value; a repeated parameter (?a=1&a=2) is an error, not an array. */
const single = z.string({
  error: (i) => (i.input === undefined ? 'is required' : Array.isArray(i.input) ? 'must be given once' : 'must be a string'),
});

/**
 * ISO-8601 with an offset, or epoch seconds (milliseconds above 10^11), as in the measure message
 * contract; to microseconds since the epoch. A `+` offset sent unencoded arrives as a space: read
 * it back.
 */
export const timestampMicrosQuery = single.transform((raw, ctx) => {
  const v = raw.replace(/^(.+\d) (\d{2}:?\d{2})$/, '$1+$2');
  const us = timestampToMicros(/^\d+(\.\d+)?$/.test(v) ? Number(v) : v);
  if (typeof us === 'string') {
    ctx.addIssue({ code: 'custom', message: us });
    return z.NEVER;
  }
  return us;
});

/** As timestampMicrosQuery, to DATETIME(6) text. */
export const timestampQuery = timestampMicrosQuery.transform(microsToSql);

export function limitQuery(max: number) {
  return single
    .regex(/^\d{1,7}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `must be an integer from 1 to ${max}`);
}

export const cursorQuery = single.max(512, 'is not a cursor of this listing');

const measureNameQuery = single.min(1, 'must not be empty').max(64, 'must be at most 64 characters');
const sourceQuery = single.max(64, 'must be at most 64 characters');

export function measuresQuery(maxLimit: number) {
  return z.strictObject({
    measure: measureNameQuery.optional(),
    source: sourceQuery.optional(),
    from: timestampQuery.optional(),
    to: timestampQuery.optional(),
    limit: limitQuery(maxLimit).optional(),
    cursor: cursorQuery.optional(),
  });
}

export const aggregateQuery = z.strictObject({
  measure: measureNameQuery.optional().describe('Measure type name; without it, one series per measure type'),
  source: sourceQuery.optional(),
  from: timestampMicrosQuery.describe('Inclusive; ISO-8601 with an offset, or epoch seconds'),
  to: timestampMicrosQuery.describe('Exclusive; ISO-8601 with an offset, or epoch seconds'),
  interval: single
    .transform((raw, ctx) => {
      const seconds = parseInterval(raw);
      if (typeof seconds === 'string') {
        ctx.addIssue({ code: 'custom', message: seconds });
        return z.NEVER;
      }
      return seconds;
    })
    .describe(`Bucket width: a whole number and a unit s, m, h or d (1s to 366d), e.g. 1m; at most ${MAX_BUCKETS} buckets between from and to`),
  fn: single
    .transform((raw, ctx) => {
      const fns = parseFunctions(raw);
      if (typeof fns === 'string') {
        ctx.addIssue({ code: 'custom', message: fns });
        return z.NEVER;
      }
      return fns;
    })
    .optional()
    .describe(`Comma-separated subset of ${AGGREGATE_FUNCTIONS.join(', ')} (default: all)`),
});

export const streamQuery = z.strictObject({
  measure: measureNameQuery.optional(),
  source: sourceQuery.optional(),
  since: timestampQuery
    .optional()
    .describe('Start with measures timestamped at or after this instant (default: now); a Last-Event-ID header takes precedence'),
});

export function rejectionsQuery(maxLimit: number) {
  return z.strictObject({
    reason: single.max(32, 'must be at most 32 characters').optional(),
    limit: limitQuery(maxLimit).optional(),
    cursor: cursorQuery.optional(),
  });
}

export function auditQuery(maxLimit: number) {
  return z.strictObject({
    actor: userIdSchema.optional(),
    action: single.max(64, 'must be at most 64 characters').optional(),
    limit: limitQuery(maxLimit).optional(),
    cursor: cursorQuery.optional(),
  });
}

export const noQuery = z.strictObject({});
