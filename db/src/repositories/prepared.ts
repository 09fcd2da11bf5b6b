import { TypedParameter } from 'mysql2/promise';
import type { TypedParameterValue } from 'mysql2/promise';
import type { Queryable } from './queryable';

/**
 * Prepared statements (the binary protocol) for measure reads. Two reasons:
 * - DOUBLE values arrive as their eight bytes, while MariaDB's text protocol prints some with too
 *   few digits to give back the stored number (about 3 in 1,000 random doubles come back one unit
 *   in the last place off);
 * - the statement is parsed once per connection (mysql2 keeps them; the texts differ only by which
 *   filters are present, a few hundred at most, so the server's statement count stays bounded).
 * mysql2 binds every JS number as DOUBLE and MariaDB then plans `experiment_id = ?` as a
 * comparison of doubles, which cannot use the primary key as a constant (a full sort of the
 * experiment's rows instead of a range read), and MySQL 8 refuses a DOUBLE for LIMIT. So integers
 * are bound as BIGINT; these queries take no other numbers.
 */
export type Param = string | number;

export function bind(params: readonly Param[]): Array<string | number | TypedParameterValue> {
  return params.map((p) => (typeof p === 'number' && Number.isSafeInteger(p) ? TypedParameter.LONGLONG(p) : p));
}

export async function executeRows<T>(db: Queryable, sql: string, params: readonly Param[]): Promise<T[]> {
  const [rows] = await db.execute(sql, bind(params));
  return rows as T[];
}
