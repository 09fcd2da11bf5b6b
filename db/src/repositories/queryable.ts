import type { Pool, PoolConnection } from '../pool';

/** A pool (autocommit, any connection) or one connection inside a transaction. */
export type Queryable = Pool | PoolConnection;

export async function selectRows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await db.query(sql, params);
  return rows as T[];
}

export async function execute(db: Queryable, sql: string, params: unknown[] = []): Promise<{ affectedRows: number; insertId: number }> {
  const [result] = await db.query(sql, params);
  const r = result as { affectedRows: number; insertId: number };
  return { affectedRows: r.affectedRows, insertId: r.insertId };
}
