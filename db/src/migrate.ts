import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, parseMysqlUrl } from './pool';

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'migrations');
const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface MigrationResult {
  readonly applied: string[];
  readonly alreadyApplied: number;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

const migrationName = (m: Migration): string => `${String(m.version).padStart(4, '0')}_${m.name}`;

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const [, version, name] = MIGRATION_FILE.exec(file)!;
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version: Number(version), name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length) throw new Error('two migrations share a version number');
  return migrations;
}

/**
 * Creates the database if needed and applies pending migrations in order, under a named lock so
 * two processes starting together never migrate at once. Migrations are append-only: a changed
 * file that was already applied is an error, not a silent skip.
 */
export async function migrate(url: string, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const { database } = parseMysqlUrl(url);
  const migrations = await readMigrations(dir);
  const conn = await connect(url, { withDatabase: false, multipleStatements: true });
  const lockName = `mymonit.migrate.${database}`.slice(0, 64);
  try {
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await conn.query(`USE \`${database}\``);
    const [lockRows] = await conn.query('SELECT GET_LOCK(?, 120) AS got', [lockName]);
    if ((lockRows as Array<{ got: number | null }>)[0]?.got !== 1) {
      throw new Error('timed out waiting for another process to finish migrating');
    }
    try {
      await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INT          NOT NULL,
        name       VARCHAR(255) NOT NULL,
        checksum   CHAR(64)     NOT NULL,
        applied_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        PRIMARY KEY (version)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      const [rows] = await conn.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
      const done = new Map((rows as Array<{ version: number; checksum: string; name: string }>).map((r) => [r.version, r]));
      const applied: string[] = [];
      for (const m of migrations) {
        const previous = done.get(m.version);
        if (previous) {
          if (previous.checksum !== m.checksum) {
            throw new Error(`migration ${migrationName(m)} was changed after it was applied; add a new migration instead`);
          }
          continue;
        }
        // DDL commits implicitly in MySQL, so a migration is not atomic; each file is kept small
        // and the ledger row is written only once the whole file has run.
        await conn.query(m.sql);
        await conn.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        applied.push(migrationName(m));
      }
      return { applied, alreadyApplied: done.size };
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lockName]);
    }
  } finally {
    await conn.end();
  }
}

/** Runs a seed file (idempotent SQL) against the database. */
export async function runSqlFile(url: string, file: string): Promise<void> {
  const conn = await connect(url, { multipleStatements: true });
  try {
    await conn.query(await readFile(file, 'utf8'));
  } finally {
    await conn.end();
  }
}

/** Drops a database; for tests and benchmarks that made their own. */
export async function dropDatabase(url: string): Promise<void> {
  const { database } = parseMysqlUrl(url);
  const conn = await connect(url, { withDatabase: false });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await conn.end();
  }
}
