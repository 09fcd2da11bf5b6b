import { describe as describeError } from '../services/shared/amqp-consumer';
import { captureLogger } from './support/capture-logger';
import { createTestDatabase } from './support/services';
import type { TestDatabase } from './support/services';

/**
 * Errors the real MariaDB returns quote the offending values: a person's e-mail address in a
 * duplicate, a measure's text in a bad datetime. Logs go to Elasticsearch, where no GDPR delete
 * reaches, so neither the log line nor the text ingest reports (logs and /readyz) may carry them.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('errlog');
  await db.pool.query("INSERT INTO users (id, name, username, email, role) VALUES ('U1', 'Ada', 'uid-ada', 'ada@example.org', 'SCIENTIST')");
});

afterAll(() => db?.drop());

async function failure(sql: string, params: string[]): Promise<Error> {
  try {
    await db.pool.execute(sql, params);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected ${sql} to fail`);
}

it('logs a real duplicate-key error with the index it hit and without the e-mail address', async () => {
  const err = await failure("INSERT INTO users (id, name, username, email, role) VALUES ('U2', 'Eve', 'uid-eve', ?, 'SCIENTIST')", ['ada@example.org']);
  expect(err.message).toContain('ada@example.org'); // what the server said, left intact for the code that handles it
  const { logger, lines } = captureLogger();
  logger.error('request failed', { err });
  expect(lines[0]).not.toContain('ada@example.org');
  expect(lines[0]).toContain("Duplicate entry ? for key 'users_email'");
  expect(lines[0]).toContain('ER_DUP_ENTRY');
  expect(describeError(err)).toBe("Error: Duplicate entry ? for key 'users_email'");
});

it('logs a real bad-value error without the value', async () => {
  const err = await failure('INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES (1, ?, 1, ?, 1)', [
    'not-a-time-12345',
    's',
  ]);
  const { logger, lines } = captureLogger();
  logger.warn('batch write failed, will retry', { err });
  expect(lines[0]).not.toContain('not-a-time-12345');
  expect(lines[0]).toMatch(/Incorrect datetime value: \? for column/);
  expect(describeError(err)).not.toContain('not-a-time-12345');
});
