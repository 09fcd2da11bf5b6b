import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Measure } from '../../services/shared/measure-contract';
import { Forwarder, messagesFor } from './forwarder';
import type { MessagePublisher } from './forwarder';
import { Journal } from './journal';
import type { JournalRecord } from './journal';
import { PublisherClosedError } from './publisher';
import type { PublishOptions } from './publisher';

const m = (value: number): Measure => ({ experiment: 'e', measure: 'hertz', value, timestampUs: 1_700_000_000_000_000 + value, source: '' });

const record = (segment: number, start: number, end: number, values: number[]): JournalRecord => ({
  start: { segment, offset: start },
  end: { segment, offset: end },
  measures: values.map(m),
  appendedAtMs: 0,
});

describe('messagesFor', () => {
  it('groups records of one segment up to the limit and names the byte range', () => {
    const msgs = messagesFor('j1', [record(1, 0, 10, [1, 2]), record(1, 10, 20, [3]), record(1, 20, 30, [4, 5]), record(2, 0, 10, [6])], 3);
    expect(msgs.map((x) => [x.messageId, x.measures.map((y) => y.value), x.advanceTo])).toEqual([
      ['j1:1:0-20', [1, 2, 3], { segment: 1, offset: 20 }],
      ['j1:1:20-30', [4, 5], { segment: 1, offset: 30 }],
      ['j1:2:0-10', [6], { segment: 2, offset: 10 }],
    ]);
  });

  it('splits a record bigger than the limit into parts; only the last moves the checkpoint', () => {
    const msgs = messagesFor('j1', [record(3, 40, 90, [1, 2, 3, 4, 5])], 2);
    expect(msgs.map((x) => [x.messageId, x.measures.length, x.advanceTo])).toEqual([
      ['j1:3:40-90:1/3', 2, undefined],
      ['j1:3:40-90:2/3', 2, undefined],
      ['j1:3:40-90:3/3', 1, { segment: 3, offset: 90 }],
    ]);
  });
});

/** A publisher whose confirms the test settles by hand, in any order. */
class ManualPublisher implements MessagePublisher {
  open = true;
  readonly maxMeasuresPerMessage = 1;
  readonly sent: Array<{ id: string; values: number[]; confirm(): void; fail(err: Error): void }> = [];
  closed = false;

  publish(measures: readonly Measure[], opts: PublishOptions): Promise<void> {
    if (!this.open) return Promise.reject(new PublisherClosedError('closed'));
    return new Promise<void>((resolve, reject) => {
      this.sent.push({ id: opts.messageId ?? '?', values: measures.map((x) => x.value), confirm: resolve, fail: reject });
    });
  }

  close(): Promise<void> {
    this.open = false;
    this.closed = true;
    return Promise.resolve();
  }
}

async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Forwarder', () => {
  let dir: string;
  let journal: Journal;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-forwarder-'));
    journal = await Journal.open({ dir, maxBytes: 1 << 20, checkpointDelayMs: 1 });
  });

  afterEach(async () => {
    await journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves the checkpoint only over the confirmed prefix, whatever order confirms come in', async () => {
    for (let i = 1; i <= 3; i++) await journal.append([m(i)]);
    const records = await journal.read(journal.confirmedPosition, 100);
    const publisher = new ManualPublisher();
    const forwarder = new Forwarder(journal, () => Promise.resolve(publisher), { maxInFlight: 8 });
    forwarder.start();
    await until('three messages in flight', () => publisher.sent.length === 3);
    expect(publisher.sent.map((s) => s.values)).toEqual([[1], [2], [3]]);

    publisher.sent[2].confirm();
    publisher.sent[1].confirm();
    await new Promise((r) => setTimeout(r, 20));
    expect(journal.confirmedPosition).toEqual(records[0].start);
    publisher.sent[0].confirm();
    await until('the checkpoint to reach the end', () => journal.confirmedPosition.offset === records[2].end.offset);
    await forwarder.stop();
    await forwarder.stopped;
    expect(publisher.closed).toBe(true);
  });

  it('after a failure, resends everything from the first unconfirmed record on a new connection', async () => {
    for (let i = 1; i <= 3; i++) await journal.append([m(i)]);
    const publishers: ManualPublisher[] = [];
    const forwarder = new Forwarder(
      journal,
      () => {
        const p = new ManualPublisher();
        publishers.push(p);
        return Promise.resolve(p);
      },
      { reconnectStartMs: 1, reconnectMaxMs: 5 },
    );
    forwarder.start();
    await until('three messages in flight', () => publishers[0]?.sent.length === 3);
    const [first, second, third] = publishers[0].sent;
    first.confirm();
    third.confirm();
    second.fail(new PublisherClosedError('connection lost'));
    await until('a second connection', () => publishers.length === 2 && publishers[1].sent.length === 2);
    expect(publishers[0].closed).toBe(true);
    // The confirmed third is sent again with the same id: a recognisable replay.
    expect(publishers[1].sent.map((s) => [s.id, s.values])).toEqual([
      [second.id, [2]],
      [third.id, [3]],
    ]);
    for (const s of publishers[1].sent) s.confirm();
    await until('everything confirmed', () => journal.stats.unconfirmedBytes === 0);
    await forwarder.stop();
  });

  it('keeps trying to connect with backoff while the broker is away, and delivers once it is back', async () => {
    await journal.append([m(1)]);
    let attempts = 0;
    const publisher = new ManualPublisher();
    const forwarder = new Forwarder(
      journal,
      () => (++attempts < 4 ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(publisher)),
      { reconnectStartMs: 1, reconnectMaxMs: 4 },
    );
    forwarder.start();
    await until('the message to go out', () => publisher.sent.length === 1);
    expect(attempts).toBe(4);
    publisher.sent[0].confirm();
    await until('everything confirmed', () => journal.stats.unconfirmedBytes === 0);
    await forwarder.stop();
  });
});
