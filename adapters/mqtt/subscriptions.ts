import fs from 'node:fs';
import { z } from 'zod';
import { decodeMymonit, decodeThingsBoard } from './payloads';
import type { Decoded } from './payloads';
import { filterProblem, matchTopic } from './topics';

/**
 * What the bridge subscribes to and how each topic's payloads decode. From `--topic` (mymonit
 * format, comma-separated filters) and/or `--config FILE`:
 *
 *   {"subscriptions": [
 *     {"topic": "mymonit/+/+/+"},
 *     {"topic": "v1/devices/me/telemetry", "format": "thingsboard", "experiment": "greenhouse", "source": "tb-1"},
 *     {"topic": "farm/+/telemetry", "format": "thingsboard", "experiment": "farm", "source": "{1}"}
 *   ]}
 *
 * In experiment and source, {1}, {2}, … are the topic levels the filter's `+` wildcards matched.
 */

export const DEFAULT_TOPIC = 'mymonit/+/+/+';

export type Subscription =
  | { readonly topic: string; readonly format: 'mymonit' }
  | { readonly topic: string; readonly format: 'thingsboard'; readonly experiment: string; readonly source: string };

export class SubscriptionConfigError extends Error {
  constructor(
    where: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid subscriptions in ${where}:\n  ${problems.join('\n  ')}`);
    this.name = 'SubscriptionConfigError';
  }
}

const topicFilter = z.string().superRefine((t, ctx) => {
  const problem = filterProblem(t);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const template = z.string().min(1, 'must not be empty');

const subscriptionSchema = z.discriminatedUnion(
  'format',
  [
    z.object({ topic: topicFilter, format: z.literal('mymonit') }).strict(),
    z.object({ topic: topicFilter, format: z.literal('thingsboard'), experiment: template, source: z.string().default('') }).strict(),
  ],
  { error: 'format must be "mymonit" or "thingsboard"' },
);

const fileSchema = z
  .object({
    subscriptions: z
      .array(z.preprocess((v) => (v && typeof v === 'object' && !('format' in v) ? { ...v, format: 'mymonit' } : v), subscriptionSchema))
      .min(1, 'must list at least one subscription'),
  })
  .strict();

function checkTemplates(s: Subscription, i: number): string[] {
  if (s.format !== 'thingsboard') return [];
  const wildcards = s.topic.split('/').filter((l) => l === '+').length;
  return (['experiment', 'source'] as const).flatMap((field) =>
    [...s[field].matchAll(/\{(\d+)\}/g)]
      .filter((m) => Number(m[1]) < 1 || Number(m[1]) > wildcards)
      .map((m) => `subscriptions[${i}].${field}: {${m[1]}} names no "+" level of ${s.topic} (it has ${wildcards})`),
  );
}

export function parseSubscriptions(doc: unknown, where: string): Subscription[] {
  const parsed = fileSchema.safeParse(doc, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined),
  });
  if (!parsed.success) {
    throw new SubscriptionConfigError(
      where,
      parsed.error.issues.map((i) => `${i.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '') || 'file'}: ${i.message}`),
    );
  }
  const subs: Subscription[] = parsed.data.subscriptions;
  const problems = subs.flatMap(checkTemplates);
  if (problems.length) throw new SubscriptionConfigError(where, problems);
  return subs;
}

export function loadSubscriptions(file: string): Subscription[] {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'not valid JSON' : `cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    throw new SubscriptionConfigError(file, [why]);
  }
  return parseSubscriptions(doc, file);
}

/** `--topic a/+/+/+,b/#` as mymonit subscriptions. */
export function topicSubscriptions(list: string): Subscription[] {
  const topics = list.split(',').map((t) => t.trim());
  const problems = topics.flatMap((t) => {
    const p = filterProblem(t);
    return p ? [`--topic ${JSON.stringify(t)}: ${p}`] : [];
  });
  if (problems.length) throw new SubscriptionConfigError('--topic', problems);
  return topics.map((topic) => ({ topic, format: 'mymonit' }));
}

function fill(template: string, captures: readonly string[]): string {
  return template.replace(/\{(\d+)\}/g, (_, n: string) => captures[Number(n) - 1] ?? '');
}

/** Decodes a message by the first subscription whose filter matches its topic; undefined if none does. */
export function decodeMessage(subs: readonly Subscription[], topic: string, payload: Buffer, receivedUs: number): Decoded | undefined {
  for (const s of subs) {
    const captures = matchTopic(s.topic, topic);
    if (!captures) continue;
    if (s.format === 'mymonit') return decodeMymonit(topic, payload, receivedUs);
    return decodeThingsBoard(payload, fill(s.experiment, captures), fill(s.source, captures), receivedUs);
  }
  return undefined;
}
