import type { z } from 'zod';
import type { FieldError } from '../../shared/errors';
import { ValidationError } from '../../shared/errors';

export type RequestPart = 'params' | 'query' | 'body';

/** zod issues → one FieldError per offending field, named as the client wrote it. */
export function fieldErrors(part: RequestPart, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ field: [...issue.path, key].join('.'), message: 'is not allowed' });
      continue;
    }
    const field = issue.path.length ? issue.path.map(String).join('.') : part;
    // Schemas carry their own messages; zod's default for a missing value reads poorly.
    const message = issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'is required' : issue.message;
    out.push({ field, message });
  }
  return out;
}

export function parsePart<T>(schema: z.ZodType<T>, part: RequestPart, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = fieldErrors(part, r.error.issues);
  throw new ValidationError(`invalid ${part === 'params' ? 'path' : part}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors);
}
