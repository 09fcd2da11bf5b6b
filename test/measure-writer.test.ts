import { NameResolver } from '../services/ingest/name-resolver';
import { MeasureWriter } from '../services/ingest/measure-writer';
import type { PendingMessage } from '../services/ingest/measure-writer';
import { CatalogRepository } from '../db/src/repositories/catalog.repository';
import { decodeMeasureMessage } from '../services/shared/measure-contract';
import { count, createTestDatabase } from './support/services';
import type { TestDatabase } from './support/services';

/** The batch writer against the real MariaDB. */

let db: TestDatabase;
let writer: MeasureWriter;

beforeAll(async () => {
  db = await createTestDatabase('writer');
  await db.pool.query("INSERT INTO experiments (name) VALUES ('w')");
  writer = new MeasureWriter(db.pool, new NameResolver(new CatalogRepository(db.pool)));
});

afterAll(() => db?.drop());

beforeEach(async () => {
  await db.pool.query('DELETE FROM measures');
  await db.pool.query('DELETE FROM rejected_measures');
});

const message = (body: unknown): PendingMessage => ({ decoded: decodeMeasureMessage(JSON.stringify(body)), messageId: undefined });

it('applies equal keys of one batch in arrival order (last write wins) and stores each point once', async () => {
  const batch = [
    message({ experiment: 'w', measure: 'hertz', value: 1, timestamp: 10 }),
    message([
      { experiment: 'w', measure: 'hertz', value: 2, timestamp: 10 },
      { experiment: 'w', measure: 'hertz', value: 3, timestamp: 10, source: 'other' },
    ]),
    message({ experiment: 'w', measure: 'hertz', value: 4, timestamp: 10 }),
  ];
  const outcome = await writer.write(batch, 'b-1', false);
  expect(outcome.stored).toBe(4);
  const [rows] = await db.pool.query('SELECT source, value FROM measures ORDER BY source');
  expect(rows).toEqual([
    { source: '', value: 4 },
    { source: 'other', value: 3 },
  ]);
});

it('does not write a batch again when a retry finds it was already committed', async () => {
  const batch = [message([{ experiment: 'w', measure: 'hertz', value: 1, timestamp: 1 }, { experiment: 'w', measure: 'nope', value: 1, timestamp: 1 }])];
  await writer.write(batch, 'b-2', false);
  const again = await writer.write(batch, 'b-2', true);
  expect(again.rejected.get('unknown_measure_type')).toBe(1);
  expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM rejected_measures')).toBe(1);
  // The marker is what prevents the duplicate: a new batch id writes the rejection again.
  await writer.write(batch, 'b-3', true);
  expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM rejected_measures')).toBe(2);
  expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM measures')).toBe(1);
});

it('picks up an experiment created after ingest started, on its first measure', async () => {
  const batch = [message({ experiment: 'late', measure: 'watt', value: 7, timestamp: 5 })];
  expect((await writer.write(batch, 'b-4', false)).rejected.get('unknown_experiment')).toBe(1);
  await db.pool.query("INSERT INTO experiments (name) VALUES ('late')");
  expect((await writer.write(batch, 'b-5', false)).stored).toBe(1);
});

it('writes the rejections of a message with an id once, however often the message comes again', async () => {
  const body = [
    { experiment: 'w', measure: 'hertz', value: 1, timestamp: 20 },
    { experiment: 'w', measure: 'nope', value: 2, timestamp: 20 },
    { experiment: 'w', measure: 'nope', value: 2, timestamp: 20 },
    { experiment: 'w', measure: 'hertz', value: 'x', timestamp: 20 },
  ];
  const withId = (id: string): PendingMessage => ({ decoded: decodeMeasureMessage(JSON.stringify(body)), messageId: id });
  // First delivery, then the redelivery after a crash between COMMIT and ack (a new batch id).
  await writer.write([withId('msg-1')], 'b-6', false);
  await writer.write([withId('msg-1')], 'b-7', false);
  // Two identical elements of one message are two rejections; the invalid value is a third.
  expect(await count(db.pool, "SELECT COUNT(*) AS n FROM rejected_measures WHERE message_id = 'msg-1'")).toBe(3);
  expect(await count(db.pool, "SELECT COUNT(*) AS n FROM rejected_measures WHERE reason = 'unknown_measure_type'")).toBe(2);
  expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM measures')).toBe(1);
  // Another message (another id) with the same content is another message: its rejections count.
  await writer.write([withId('msg-2')], 'b-8', false);
  expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM rejected_measures')).toBe(6);
});
