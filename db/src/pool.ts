import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, PoolOptions } from 'mysql2/promise';

export type { Pool, PoolConnection };

export interface DatabaseUrlParts {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export function parseMysqlUrl(url: string): DatabaseUrlParts {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) {
    throw new Error('MYSQL_URL must name a database made of letters, digits, _ $ or -');
  }
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
  };
}

/**
 * Every connection works in UTC and in strict mode, whatever the server defaults are: DATETIME
 * values are always UTC, and a bad value is an error instead of a silent coercion (the original
 * ran with sql_mode="" and stored "abc" as 0).
 */
const SESSION_SETUP = "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";

export function createPool(url: string, options: Partial<PoolOptions> = {}): Pool {
  const p = parseMysqlUrl(url);
  const pool = mysql.createPool({
    host: p.host,
    port: p.port,
    user: p.user,
    password: p.password,
    database: p.database,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    // DATETIME(6) keeps microseconds; a JS Date would lose them.
    dateStrings: true,
    supportBigNumbers: true,
    connectionLimit: 10,
    maxIdle: 10,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    connectTimeout: 5_000,
    ...options,
  });
  pool.pool.on('connection', (conn) => {
    conn.query(SESSION_SETUP);
  });
  return pool;
}

/** One connection outside any pool, e.g. for migrations or administration. */
export async function connect(url: string, options: { withDatabase?: boolean; multipleStatements?: boolean } = {}) {
  const p = parseMysqlUrl(url);
  const conn = await mysql.createConnection({
    host: p.host,
    port: p.port,
    user: p.user,
    password: p.password,
    database: options.withDatabase === false ? undefined : p.database,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    dateStrings: true,
    multipleStatements: options.multipleStatements ?? false,
    connectTimeout: 5_000,
  });
  await conn.query(SESSION_SETUP);
  return conn;
}

/** Runs fn in one transaction on one pooled connection: COMMIT on success, ROLLBACK on error. */
export async function withTransaction<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await fn(conn);
    await conn.commit();
    return result;
  } catch (err) {
    try {
      await conn.rollback();
    } catch {
      // The connection is broken; destroying it below is all that is left to do.
      conn.destroy();
      throw err;
    }
    throw err;
  } finally {
    conn.release();
  }
}
