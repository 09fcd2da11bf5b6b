import type {
  AssociationRecord,
  AuditRecord,
  ExperimentRecord,
  MeasureRecord,
  MeasureTypeRecord,
  RejectionRecord,
  UserRecord,
} from '../../../db/src/repositories/records';

/** JSON shapes of the API. Field names follow the original API where it had the resource. */

/** DATETIME(6) text (UTC) → ISO-8601 with microseconds, e.g. 2022-04-06T07:00:00.000000Z. */
export function sqlToIso(ts: string): string {
  const [date, time = '00:00:00'] = ts.split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date}T${hms}.${frac.padEnd(6, '0').slice(0, 6)}Z`;
}

export const userJson = (u: UserRecord) => ({
  user_id: u.id,
  name: u.name,
  username: u.username,
  email: u.email,
  role: u.role,
});

export const experimentJson = (e: ExperimentRecord) => ({ experiment_id: e.id, name: e.name });

/** Grouped by experiment id as the original did, with the experiment's name added. */
export function associationsJson(rows: readonly AssociationRecord[]) {
  const out: Record<string, { name: string; users: ReturnType<typeof userJson>[] }> = {};
  for (const r of rows) {
    (out[String(r.experimentId)] ??= { name: r.experimentName, users: [] }).users.push(userJson(r.user));
  }
  return out;
}

export const measureJson = (m: MeasureRecord) => ({
  experiment: m.experimentName,
  measure_type: m.measureTypeName,
  timestamp: sqlToIso(m.ts),
  value: m.value,
  source: m.source,
});

export const measureTypeJson = (t: MeasureTypeRecord) => ({
  measure_type_id: t.id,
  name: t.name,
  symbol: t.symbol,
  quantity: t.quantity,
});

export const rejectionJson = (r: RejectionRecord) => ({
  id: r.id,
  received_at: sqlToIso(r.receivedAt),
  reason: r.reason,
  detail: r.detail,
  message_id: r.messageId,
  raw: r.raw,
  raw_truncated: r.rawLength > r.raw.length,
});

export const auditJson = (a: AuditRecord) => ({
  id: a.id,
  occurred_at: sqlToIso(a.occurredAt),
  actor_id: a.actorId,
  actor_uid: a.actorUid,
  action: a.action,
  target_type: a.targetType,
  target_id: a.targetId,
  outcome: a.outcome,
  ip: a.ip,
  request_id: a.requestId,
  details: a.details,
});

/** RFC 8288 Link to the next page: the request's own path and query with the cursor replaced. */
export function nextLink(url: { path: string; search: URLSearchParams }, cursor: string): Record<string, string> {
  const search = new URLSearchParams(url.search);
  search.set('cursor', cursor);
  return { Link: `<${url.path}?${search.toString()}>; rel="next"` };
}
