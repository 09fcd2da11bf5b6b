import path from 'node:path';
import { migrate, runSqlFile } from '../db/src/migrate';
import { ConfigError, loadMigrateConfig } from '../services/shared/config';
import { redactString } from '../services/shared/logger';

const SEEDS_DIR = path.resolve(__dirname, '..', 'db', 'seeds');
const USAGE = 'usage: npm run db:migrate [-- --seed demo]';

/** `npm run db:migrate`: creates the database if needed, applies migrations, optionally seeds. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? args[seedAt + 1] : undefined;
  if (seedAt >= 0 && !(seed && /^[a-z0-9-]+$/.test(seed))) throw new Error(USAGE);
  const config = loadMigrateConfig();
  const result = await migrate(config.mysqlUrl);
  const target = redactString(config.mysqlUrl);
  process.stdout.write(
    result.applied.length
      ? `migrated ${target}: applied ${result.applied.join(', ')}\n`
      : `migrated ${target}: up to date (${result.alreadyApplied} migrations)\n`,
  );
  if (seed) {
    await runSqlFile(config.mysqlUrl, path.join(SEEDS_DIR, `${seed}.sql`));
    process.stdout.write(`loaded seed ${seed}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : redactString(String((err as Error).message ?? err))}\n`);
  process.exit(1);
});
