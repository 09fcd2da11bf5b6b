import { mkdtemp, writeFile, cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dropDatabase, migrate, MIGRATIONS_DIR } from '../db/src/migrate';
import { createPool } from '../db/src/pool';
import { MYSQL_ROOT, uniqueName } from './support/services';

const url = `${MYSQL_ROOT}/${uniqueName('mymonit_test_migrate')}`;

afterAll(() => dropDatabase(url));

it('creates the database, and two processes migrating at once apply each migration once', async () => {
  const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
  const applied = results.map((r) => r.applied.length);
  expect(applied.filter((n) => n > 0)).toHaveLength(1);
  const pool = createPool(url);
  const [rows] = await pool.query('SELECT version FROM schema_migrations ORDER BY version');
  const [types] = await pool.query('SELECT COUNT(*) AS n FROM measure_types');
  await pool.end();
  expect((rows as unknown[]).length).toBe(Math.max(...applied));
  expect((types as Array<{ n: number }>)[0].n).toBe(22);
});

it('refuses to run when an applied migration was edited', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  await writeFile(path.join(dir, '0001_core.sql'), '-- edited\n', { flag: 'a' });
  await expect(migrate(url, dir)).rejects.toThrow(/0001_core was changed after it was applied/);
});
