import { isIP } from 'node:net';
import type { OutboxEvent } from '../../db/src/repositories/audit-outbox.repository';

/**
 * An audit_events row as an ECS document. The field names are the contract with the index
 * template (audit-index-template.ts) and the Kibana saved objects (logstash/kibana/).
 */

export const AUDIT_INDEX_PREFIX = 'mymonit-audit-';
export const ECS_VERSION = '8.11.0';

export interface AuditDocument {
  readonly '@timestamp': string;
  readonly ecs: { readonly version: string };
  readonly event: {
    readonly id: string;
    readonly sequence: number;
    readonly kind: 'event';
    readonly module: 'mymonit';
    readonly dataset: 'mymonit.audit';
    readonly action: string;
    /** ECS allows success, failure and unknown; the finer MyMONIT outcome is mymonit.audit.outcome. */
    readonly outcome: 'success' | 'failure' | 'unknown';
    readonly type: readonly string[];
  };
  readonly user?: { readonly id: string };
  readonly related?: { readonly user?: readonly string[]; readonly ip?: readonly string[] };
  readonly source?: { readonly address: string; readonly ip?: string };
  readonly http?: {
    readonly request: { readonly id?: string; readonly method?: string };
    readonly response?: { readonly status_code: number };
  };
  readonly url?: { readonly path: string };
  readonly mymonit: {
    readonly audit: {
      readonly outcome: string;
      readonly actor_uid?: string;
      readonly target?: { readonly type?: string; readonly id?: string };
      readonly details?: Record<string, unknown>;
    };
  };
}

/** '2026-11-22 16:20:01.123456' (UTC) → '2026-11-22T16:20:01.123456Z'. */
export function isoTimestamp(occurredAt: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)Z?$/.exec(occurredAt);
  if (!m) throw new Error(`unexpected occurred_at value: ${occurredAt}`);
  return `${m[1]}T${m[2]}Z`;
}

/** Daily index named after the event's own UTC day, so a late-shipped event lands beside its peers. */
export function auditIndexFor(occurredAt: string): string {
  const day = isoTimestamp(occurredAt).slice(0, 10);
  return `${AUDIT_INDEX_PREFIX}${day.replace(/-/g, '.')}`;
}

function ecsOutcome(outcome: string): AuditDocument['event']['outcome'] {
  if (outcome === 'success') return 'success';
  if (outcome === 'denied' || outcome === 'not_found' || outcome === 'failure') return 'failure';
  return 'unknown';
}

function eventTypes(outcome: string): string[] {
  if (outcome === 'success') return ['allowed'];
  if (outcome === 'denied' || outcome === 'not_found') return ['denied'];
  return ['error'];
}

function parseDetails(text: string | null): Record<string, unknown> | undefined {
  if (text === null || text === '') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return { value: v };
  } catch {
    return { unparsable: text.slice(0, 1000) };
  }
}

export function toAuditDocument(e: OutboxEvent): AuditDocument {
  const details = parseDetails(e.details);
  const method = typeof details?.method === 'string' ? details.method : undefined;
  const path = typeof details?.path === 'string' ? details.path : undefined;
  const status = typeof details?.status === 'number' && Number.isInteger(details.status) ? details.status : undefined;
  // source.ip is typed `ip` in the template; a value that is not an address would make the whole
  // document fail, so it goes to source.address only.
  const ip = e.ip !== null && isIP(e.ip) !== 0 ? e.ip : undefined;
  const relatedUsers = [e.actorId, e.actorUid].filter((u): u is string => u !== null && u !== '');
  const target = e.targetType !== null || e.targetId !== null
    ? { ...(e.targetType !== null && { type: e.targetType }), ...(e.targetId !== null && { id: e.targetId }) }
    : undefined;
  const related = { ...(relatedUsers.length > 0 && { user: relatedUsers }), ...(ip !== undefined && { ip: [ip] }) };
  const request = { ...(e.requestId !== null && { id: e.requestId }), ...(method !== undefined && { method }) };

  return {
    '@timestamp': isoTimestamp(e.occurredAt),
    ecs: { version: ECS_VERSION },
    event: {
      id: e.id,
      sequence: Number(e.id),
      kind: 'event',
      module: 'mymonit',
      dataset: 'mymonit.audit',
      action: e.action,
      outcome: ecsOutcome(e.outcome),
      type: eventTypes(e.outcome),
    },
    ...(e.actorId !== null && { user: { id: e.actorId } }),
    ...(Object.keys(related).length > 0 && { related }),
    ...(e.ip !== null && { source: { address: e.ip, ...(ip !== undefined && { ip }) } }),
    ...((Object.keys(request).length > 0 || status !== undefined) && {
      http: { request, ...(status !== undefined && { response: { status_code: status } }) },
    }),
    ...(path !== undefined && { url: { path } }),
    mymonit: {
      audit: {
        outcome: e.outcome,
        ...(e.actorUid !== null && { actor_uid: e.actorUid }),
        ...(target !== undefined && { target }),
        ...(details !== undefined && { details }),
      },
    },
  };
}
