import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm run check` (typecheck, lint, circular imports) is part of the test run, and the import
 * boundaries of DESIGN §2 are shown to bite: each fixture below breaks one rule and must be
 * reported.
 */

const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);

it('passes npm run check: strict typecheck, lint with no warnings, no circular imports', async () => {
  const result = await run('npm', ['run', '-s', 'check'], { cwd: ROOT, maxBuffer: 16 << 20 }).then(
    () => ({ ok: true, output: '' }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  if (!result.ok) throw new Error(`npm run check failed:\n${result.output}`);
}, 300_000);

describe('import boundaries', () => {
  const fixtures = path.join(ROOT, 'services', 'lintfixture');
  const cases: Array<[string, string, RegExp]> = [
    ['db/src/lintfixture-uses-services.ts', "import { TOPOLOGY } from '../../services/shared/amqp-topology';\nexport const t = TOPOLOGY;\n", /services/],
    ['services/lintfixture/domain/uses-express.ts', "import express from 'express';\nexport const e = express;\n", /express/],
    ['services/lintfixture/domain/uses-mysql.ts', "import type { Pool } from 'mysql2/promise';\nexport type P = Pool;\n", /mysql2/],
    ['adapters/lintfixture-uses-db.ts', "import { createPool } from '../db/src/pool';\nexport const c = createPool;\n", /db/],
    ['services/lintfixture/uses-container.ts', "import { container } from 'tsyringe';\nexport const c = container;\n", /container/],
    ['services/lintfixture/reads-env.ts', 'export const port = process.env.PORT;\n', /environment/],
    ['services/lintfixture/floats-promise.ts', 'async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n', /Promises must be awaited/],
  ];

  let reports: Map<string, string>;

  beforeAll(async () => {
    for (const [file, source] of cases) {
      await mkdir(path.dirname(path.join(ROOT, file)), { recursive: true });
      await writeFile(path.join(ROOT, file), source);
    }
    // ESLint loads its flat config with a dynamic import, which jest's VM cannot do: run the CLI.
    const output = await run('npx', ['eslint', '--format', 'json', ...cases.map(([f]) => f)], { cwd: ROOT, maxBuffer: 16 << 20 }).then(
      (r) => r.stdout,
      (err: { stdout?: string }) => err.stdout ?? '[]',
    );
    const results = JSON.parse(output) as Array<{ filePath: string; messages: Array<{ ruleId: string | null; message: string }> }>;
    reports = new Map(results.map((r) => [path.relative(ROOT, r.filePath), r.messages.map((m) => `${m.ruleId}: ${m.message}`).join('\n')]));
  }, 120_000);

  afterAll(async () => {
    await rm(fixtures, { recursive: true, force: true });
    for (const [file] of cases) await rm(path.join(ROOT, file), { force: true });
  });

  it.each(cases)('%s is reported', (file, _source, message) => {
    expect(reports.get(file) ?? '').toMatch(message);
  });
});
