import fc from 'fast-check';
import type { Pool } from '../db/src/pool';
import { startIngest } from './support/processes';
import type { IngestProcess } from './support/processes';
import { count, createTestDatabase, createTestVhost, publishBodies, queueDepth, waitFor } from './support/services';
import type { TestDatabase, TestVhost } from './support/services';

/** The measure message contract against the real RabbitMQ, MariaDB and ingest process. */

let db: TestDatabase;
let vhost: TestVhost;
let ingest: IngestProcess;
let pool: Pool;

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase('contract'), createTestVhost('contract')]);
  pool = db.pool;
  await pool.query("INSERT INTO experiments (name) VALUES ('device-vibrations'), ('black-holes'), ('e3')");
  ingest = await startIngest({ MYSQL_URL: db.url, AMQP_URL: vhost.url, INGEST_FLUSH_MS: '20' });
});

afterAll(async () => {
  ingest?.proc.kill('SIGTERM');
  await ingest?.exited;
  await Promise.all([db?.drop(), vhost?.delete()]);
});

beforeEach(async () => {
  await pool.query('DELETE FROM measures');
  await pool.query('DELETE FROM rejected_measures');
});

async function drained(): Promise<void> {
  await waitFor(async () => (await queueDepth(vhost.url)) === 0, 'queue drained');
  // The queue is empty once ingest has received everything; the last batch commits just after.
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${ingest.opsPort}/metrics`);
    const text = await res.text();
    const buffered = /mymonit_ingest_buffered_messages\{[^}]*\} (\d+)/.exec(text);
    return buffered?.[1] === '0';
  }, 'ingest idle');
}

interface StoredRow {
  experiment: string;
  measure: string;
  source: string;
  ts: string;
  value: number;
}

async function stored(): Promise<StoredRow[]> {
  const [rows] = await pool.query(
    `SELECT e.name AS experiment, t.name AS measure, m.source, m.ts, m.value
     FROM measures m JOIN experiments e ON e.id = m.experiment_id JOIN measure_types t ON t.id = m.measure_type_id
     ORDER BY m.ts, t.name, m.source`,
  );
  return rows as StoredRow[];
}

async function rejections(): Promise<Array<{ reason: string; detail: string; raw: string; message_id: string | null }>> {
  const [rows] = await pool.query('SELECT reason, detail, raw, message_id FROM rejected_measures ORDER BY id');
  return rows as Array<{ reason: string; detail: string; raw: string; message_id: string | null }>;
}

describe('ingest stores measures of the contract', () => {
  it('stores a message in the original format with the right experiment, type, value and UTC time', async () => {
    await publishBodies(vhost.url, ['{"experiment":"device-vibrations","measure":"hertz","value":120.0,"timestamp":1649228940}']);
    await drained();
    expect(await stored()).toEqual([
      { experiment: 'device-vibrations', measure: 'hertz', source: '', ts: '2022-04-06 07:09:00.000000', value: 120 },
    ]);
  });

  it('stores arrays with millisecond and ISO-8601 timestamps and sources', async () => {
    await publishBodies(vhost.url, [
      JSON.stringify([
        { experiment: 'black-holes', measure: 'watt', value: -1.5, timestamp: 1700000000123, source: 'sensor-17' },
        { experiment: 'black-holes', measure: 'watt', value: 2.25, timestamp: '2023-11-14T23:13:20.654321+01:00', source: 'sensor-17' },
        { experiment: 'black-holes', measure: 'degree Celsius', value: 21, timestamp: 1700000000.5 },
      ]),
    ]);
    await drained();
    expect(await stored()).toEqual([
      { experiment: 'black-holes', measure: 'watt', source: 'sensor-17', ts: '2023-11-14 22:13:20.123000', value: -1.5 },
      { experiment: 'black-holes', measure: 'degree Celsius', source: '', ts: '2023-11-14 22:13:20.500000', value: 21 },
      { experiment: 'black-holes', measure: 'watt', source: 'sensor-17', ts: '2023-11-14 22:13:20.654321', value: 2.25 },
    ]);
    expect(await rejections()).toEqual([]);
  });
});

describe('ingest keeps every rejected measure with its reason', () => {
  it('writes exactly one rejection row per bad measure while the good ones of the same message are stored', async () => {
    const good = { experiment: 'e3', measure: 'volt', value: 1, timestamp: 1000 };
    const unknownExperiment = { experiment: 'no-such-experiment', measure: 'volt', value: 2, timestamp: 1001 };
    const unknownType = { experiment: 'e3', measure: 'furlong', value: 3, timestamp: 1002 };
    const invalid = { experiment: 'e3', measure: 'volt', value: 'high', timestamp: 1003 };
    await publishBodies(vhost.url, [JSON.stringify([good, unknownExperiment, unknownType, invalid]), '{"experiment": "e3", '], true);
    await drained();
    expect((await stored()).map((r) => r.value)).toEqual([1]);
    const rows = await rejections();
    expect(rows.map((r) => r.reason).sort()).toEqual(['invalid_json', 'invalid_measure', 'unknown_experiment', 'unknown_measure_type']);
    const by = Object.fromEntries(rows.map((r) => [r.reason, r]));
    expect(JSON.parse(by.unknown_experiment.raw)).toEqual(unknownExperiment);
    expect(by.unknown_experiment.detail).toMatch(/no-such-experiment/);
    expect(JSON.parse(by.unknown_measure_type.raw)).toEqual(unknownType);
    expect(by.unknown_measure_type.detail).toMatch(/furlong/);
    expect(JSON.parse(by.invalid_measure.raw)).toEqual(invalid);
    expect(by.invalid_measure.detail).toMatch(/^\[3\] value: /);
    expect(by.invalid_json.raw).toBe('{"experiment": "e3", ');
    expect(by.invalid_json.message_id).toBe('m-1');
  });

  it('never stops on a few thousand random and malformed payloads, and accounts for every one', async () => {
    const valid = fc.record({
      experiment: fc.constantFrom('device-vibrations', 'black-holes', 'ghost'),
      measure: fc.constantFrom('hertz', 'watt', 'parsec'),
      value: fc.double({ noNaN: true, noDefaultInfinity: true }),
      timestamp: fc.integer({ min: 0, max: 4_000_000_000 }),
      source: fc.string({ maxLength: 70 }),
    });
    type Rec = { experiment: string; measure: string; value: number; timestamp: number; source: string };
    // The oracle: a generated record is storable iff its names exist and its source fits.
    const storable = (m: Rec): boolean =>
      m.experiment !== 'ghost' && m.measure !== 'parsec' && m.source.length <= 64;
    interface Sample {
      body: string;
      elements: number;
      records: Rec[];
    }
    const payload: fc.Arbitrary<Sample> = fc.oneof(
      valid.map((m) => ({ body: JSON.stringify(m), elements: 1, records: [m] })),
      fc.array(valid, { minLength: 1, maxLength: 5 }).map((a) => ({ body: JSON.stringify(a), elements: a.length, records: a })),
      // Random JSON and random text: never a valid measure (no "experiment" key can appear with
      // all the others of the right types by chance at this size), so each is one rejection.
      fc.jsonValue().map((v) => JSON.stringify(v)).filter((t) => !t.startsWith('[')).map((body) => ({ body, elements: 1, records: [] })),
      fc.string().map((body) => ({ body, elements: 1, records: [] })),
      fc.uint8Array({ maxLength: 64 }).map((b) => ({ body: Buffer.from(b).toString('latin1'), elements: 1, records: [] })),
    );
    const samples = fc.sample(payload, { numRuns: 3000, seed: 42 });
    await publishBodies(vhost.url, samples.map((x) => x.body));
    await drained();

    const accepted = samples.flatMap((x) => x.records.filter(storable));
    const distinctKeys = new Set(accepted.map((m) => JSON.stringify([m.experiment, m.measure, m.source, m.timestamp])));
    const elements = samples.reduce((n, x) => n + x.elements, 0);
    expect(await count(pool, 'SELECT COUNT(*) AS n FROM measures')).toBe(distinctKeys.size);
    expect(await count(pool, 'SELECT COUNT(*) AS n FROM rejected_measures')).toBe(elements - accepted.length);
    expect(await count(pool, "SELECT COUNT(*) AS n FROM rejected_measures WHERE reason = 'unknown_experiment'")).toBe(
      samples.flatMap((x) => x.records).filter((m) => m.experiment === 'ghost' && m.source.length <= 64).length,
    );
    expect(await ingest.readyz()).toBe(200);

    // Ingest is still consuming normally afterwards.
    await publishBodies(vhost.url, ['{"experiment":"e3","measure":"hertz","value":42,"timestamp":99}']);
    await drained();
    expect(await count(pool, "SELECT COUNT(*) AS n FROM measures WHERE value = 42 AND ts = '1970-01-01 00:01:39'")).toBe(1);
  });
});

describe('ingest is idempotent', () => {
  it('keeps one row per point, with the last value, when the same measures are published again', async () => {
    const points = Array.from({ length: 50 }, (_, i) => ({ experiment: 'e3', measure: 'hertz', value: i, timestamp: 5000 + i, source: 's' }));
    await publishBodies(vhost.url, [JSON.stringify(points)]);
    await drained();
    await publishBodies(vhost.url, [JSON.stringify(points.map((p) => ({ ...p, value: p.value + 1000 })))]);
    await drained();
    const rows = await stored();
    expect(rows).toHaveLength(50);
    expect(rows.every((r, i) => r.value === i + 1000)).toBe(true);
  });

  it('keeps one set of rejection rows when a message with an id comes again (a redelivery), and every copy of one without an id', async () => {
    const body = JSON.stringify([
      { experiment: 'e3', measure: 'hertz', value: 1, timestamp: 7000 },
      { experiment: 'e3', measure: 'no-such-type', value: 2, timestamp: 7000 },
      { experiment: 'e3', measure: 'hertz', value: null, timestamp: 7001 },
    ]);
    // publishBodies numbers message ids from m-0 in each call: the same id twice, as a redelivery has.
    await publishBodies(vhost.url, [body], true);
    await drained();
    await publishBodies(vhost.url, [body], true);
    await drained();
    expect(await count(pool, "SELECT COUNT(*) AS n FROM rejected_measures WHERE message_id = 'm-0'")).toBe(2);
    await publishBodies(vhost.url, [body, body]);
    await drained();
    expect(await count(pool, 'SELECT COUNT(*) AS n FROM rejected_measures WHERE message_id IS NULL')).toBe(4);
    expect(await stored()).toHaveLength(1);
  });
});
