/**
 * The API's JSON shapes (see /openapi.json) and their decoders. A response without the documented
 * shape fails here, with the field named, instead of as an undefined somewhere in a view.
 */

export class DecodeError extends Error {
  constructor(what: string) {
    super(`The API sent an unexpected response (${what}).`);
    this.name = 'DecodeError';
  }
}

type Obj = Record<string, unknown>;

export function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(`${what} is not an object`);
  return v as Obj;
}

export function list<T>(v: unknown, what: string, item: (v: unknown) => T): T[] {
  if (!Array.isArray(v)) throw new DecodeError(`${what} is not a list`);
  return v.map(item);
}

export function str(o: Obj, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new DecodeError(`${k} is not a string`);
  return v;
}

export function strOrNull(o: Obj, k: string): string | null {
  const v = o[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new DecodeError(`${k} is not a string`);
  return v;
}

export function num(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number') throw new DecodeError(`${k} is not a number`);
  return v;
}

export function numOrNull(o: Obj, k: string): number | null {
  const v = o[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number') throw new DecodeError(`${k} is not a number`);
  return v;
}

export type Role = 'ADMIN' | 'SCIENTIST';

function role(o: Obj): Role {
  const r = o.role;
  if (r !== 'ADMIN' && r !== 'SCIENTIST') throw new DecodeError('role is not ADMIN or SCIENTIST');
  return r;
}

export interface User {
  readonly user_id: string;
  readonly name: string | null;
  /** Firebase uid. */
  readonly username: string | null;
  readonly email: string | null;
  readonly role: Role;
}

export function user(v: unknown): User {
  const o = obj(v, 'user');
  return { user_id: str(o, 'user_id'), name: strOrNull(o, 'name'), username: strOrNull(o, 'username'), email: strOrNull(o, 'email'), role: role(o) };
}

export interface Experiment {
  readonly experiment_id: number;
  readonly name: string;
}

export function experiment(v: unknown): Experiment {
  const o = obj(v, 'experiment');
  return { experiment_id: num(o, 'experiment_id'), name: str(o, 'name') };
}

export type Associations = ReadonlyMap<number, { readonly name: string; readonly users: readonly User[] }>;

export function associations(v: unknown): Associations {
  const o = obj(v, 'associations');
  const out = new Map<number, { name: string; users: User[] }>();
  for (const [id, entry] of Object.entries(o)) {
    const e = obj(entry, `association ${id}`);
    out.set(Number(id), { name: str(e, 'name'), users: list(e.users, 'users', user) });
  }
  return out;
}

export interface MeasureType {
  readonly measure_type_id: number;
  readonly name: string;
  readonly symbol: string;
  readonly quantity: string;
}

export function measureType(v: unknown): MeasureType {
  const o = obj(v, 'measure type');
  return { measure_type_id: num(o, 'measure_type_id'), name: str(o, 'name'), symbol: str(o, 'symbol'), quantity: str(o, 'quantity') };
}

export interface Measure {
  readonly experiment: string;
  readonly measure_type: string;
  /** ISO-8601 UTC with microseconds. */
  readonly timestamp: string;
  readonly value: number;
  readonly source: string;
}

export function measure(v: unknown): Measure {
  const o = obj(v, 'measure');
  return {
    experiment: str(o, 'experiment'),
    measure_type: str(o, 'measure_type'),
    timestamp: str(o, 'timestamp'),
    value: num(o, 'value'),
    source: str(o, 'source'),
  };
}

export interface Rejection {
  readonly id: string;
  readonly received_at: string;
  readonly reason: string;
  readonly detail: string;
  readonly message_id: string | null;
  readonly raw: string;
  readonly raw_truncated: boolean;
}

export function rejection(v: unknown): Rejection {
  const o = obj(v, 'rejection');
  return {
    id: str(o, 'id'),
    received_at: str(o, 'received_at'),
    reason: str(o, 'reason'),
    detail: str(o, 'detail'),
    message_id: strOrNull(o, 'message_id'),
    raw: str(o, 'raw'),
    raw_truncated: o.raw_truncated === true,
  };
}

export interface AuditEvent {
  readonly id: string;
  readonly occurred_at: string;
  readonly actor_id: string | null;
  readonly actor_uid: string | null;
  readonly action: string;
  readonly target_type: string | null;
  readonly target_id: string | null;
  readonly outcome: string;
  readonly ip: string | null;
  readonly request_id: string | null;
  readonly details: unknown;
}

export function auditEvent(v: unknown): AuditEvent {
  const o = obj(v, 'audit event');
  return {
    id: str(o, 'id'),
    occurred_at: str(o, 'occurred_at'),
    actor_id: strOrNull(o, 'actor_id'),
    actor_uid: strOrNull(o, 'actor_uid'),
    action: str(o, 'action'),
    target_type: strOrNull(o, 'target_type'),
    target_id: strOrNull(o, 'target_id'),
    outcome: str(o, 'outcome'),
    ip: strOrNull(o, 'ip'),
    request_id: strOrNull(o, 'request_id'),
    details: o.details ?? null,
  };
}
