import { z } from 'zod';

/**
 * Shapes of successful responses, for the OpenAPI document; presenters.test.ts checks that the
 * presenters produce exactly these.
 */

const isoTimestamp = z.string().describe('ISO-8601 UTC with microseconds, e.g. 2022-04-06T07:00:00.000000Z');

export const userResponse = z.strictObject({
  user_id: z.string(),
  name: z.string().nullable(),
  username: z.string().nullable().describe('Firebase uid'),
  email: z.string().nullable(),
  role: z.enum(['ADMIN', 'SCIENTIST']),
});

export const experimentResponse = z.strictObject({ experiment_id: z.number().int(), name: z.string() });

export const associationsResponse = z
  .record(z.string(), z.strictObject({ name: z.string(), users: z.array(userResponse) }))
  .describe('Keyed by experiment id');

export const associationResponse = z.strictObject({ experiment_id: z.number().int(), scientist_id: z.string() });

export const measureResponse = z.strictObject({
  experiment: z.string(),
  measure_type: z.string(),
  timestamp: isoTimestamp,
  value: z.number(),
  source: z.string(),
});

export const aggregateResponse = z.strictObject({
  bucket: isoTimestamp.describe('Start of the bucket: a UTC multiple of the interval since the epoch'),
  measure_type: z.string(),
  avg: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  count: z.number().int().optional(),
});

export const measureTypeResponse = z.strictObject({
  measure_type_id: z.number().int(),
  name: z.string(),
  symbol: z.string(),
  quantity: z.string(),
});

export const rejectionResponse = z.strictObject({
  id: z.string(),
  received_at: isoTimestamp,
  reason: z.string(),
  detail: z.string(),
  message_id: z.string().nullable(),
  raw: z.string().describe('At most 64 KiB of the rejected text'),
  raw_truncated: z.boolean(),
});

export const auditResponse = z.strictObject({
  id: z.string(),
  occurred_at: isoTimestamp,
  actor_id: z.string().nullable(),
  actor_uid: z.string().nullable(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  outcome: z.enum(['success', 'denied', 'not_found', 'failure']),
  ip: z.string().nullable(),
  request_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

export const probeResponse = z.object({ status: z.string(), reason: z.string().optional() });
