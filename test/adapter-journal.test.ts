import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { Forwarder } from '../adapters/sdk/forwarder';
import type { ForwarderObserver } from '../adapters/sdk/forwarder';
import { Journal } from '../adapters/sdk/journal';
import type { JournalOptions } from '../adapters/sdk/journal';
import { MeasurePublisher } from '../adapters/sdk/publisher';
import { TOPOLOGY } from '../services/shared/amqp-topology';
import type { Measure } from '../services/shared/measure-contract';
import { createTestVhost, takeAll, waitFor } from './support/services';
import type { ReceivedMessage, TestVhost } from './support/services';
import { TcpProxy } from './support/tcp-proxy';

/** The SDK journal and forwarder against the real RabbitMQ: order, checkpoint, replay, outages, returns. */

let vhost: TestVhost;
let tmp: string;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  vhost = await createTestVhost('adapter_journal');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-adapter-journal-'));
});

afterAll(async () => {
  await vhost?.delete();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await takeAll(vhost.url);
});



/** Collects messages until `done` says the received set is complete. */
async function receiveUntil(done: (all: ReceivedMessage[]) => boolean, what: string): Promise<ReceivedMessage[]> {
  const all: ReceivedMessage[] = [];
  await waitFor(async () => {
    all.push(...(await takeAll(vhost.url)));
    return done(all);
  }, what, 90_000, 200);
  return all;
}

const measure = (value: number): Measure => ({
  experiment: 'journal-test',
  measure: 'hertz',
  value,
  timestampUs: 1_700_000_000_000_000 + value * 1000,
  source: 'probe',
});

let dirCount = 0;
async function openJournal(opts: Partial<JournalOptions> = {}, dir = path.join(tmp, `j${++dirCount}`)): Promise<Journal> {
  const journal = await Journal.open({ dir, maxBytes: 64 * 1024 * 1024, checkpointDelayMs: 10, ...opts });
  cleanups.push(() => journal.close());
  return journal;
}

function startForwarder(journal: Journal, url: string, observer: ForwarderObserver = {}, declareTopology = true): Forwarder {
  const forwarder = new Forwarder(journal, () => MeasurePublisher.connect({ url, connectionName: 'journal-test', declareTopology }), {
    reconnectStartMs: 50,
    reconnectMaxMs: 500,
    observer,
  });
  forwarder.start();
  cleanups.push(async () => {
    await forwarder.stop();
    await forwarder.stopped;
  });
  return forwarder;
}

const valuesOf = (received: readonly ReceivedMessage[]): number[] => received.flatMap((r) => r.measures.map((x) => x.value));

describe('Forwarder with RabbitMQ', () => {
  it('publishes the journal in order with stable message ids, then the checkpoint and segment deletion follow', async () => {
    const journal = await openJournal({ segmentBytes: 16 * 1024 });
    for (let i = 0; i < 200; i++) await journal.append(Array.from({ length: 10 }, (_, k) => measure(i * 10 + k)));
    expect(journal.stats.segments).toBeGreaterThan(2);
    const confirmed: number[] = [];
    startForwarder(journal, vhost.url, { confirmed: (_n, measures) => confirmed.push(measures) });

    const received = await receiveUntil((all) => valuesOf(all).length >= 2000, '2000 measures');
    expect(valuesOf(received)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    for (const r of received) {
      expect(r.properties).toMatchObject({ deliveryMode: 2, contentType: 'application/json', userId: 'guest' });
      expect(r.properties.messageId).toMatch(new RegExp(`^${journal.id}:\\d+:\\d+-\\d+$`));
    }
    expect(new Set(received.map((r): unknown => r.properties.messageId)).size).toBe(received.length);
    await waitFor(() => journal.stats.unconfirmedBytes === 0, 'the checkpoint to reach the end');
    await waitFor(() => journal.stats.segments === 1, 'confirmed segments to be deleted');
    expect(confirmed.reduce((a, b) => a + b, 0)).toBe(2000);
    const checkpoint = JSON.parse(fs.readFileSync(path.join(tmp, `j${dirCount}`, 'checkpoint.json'), 'utf8')) as { segment: number; offset: number };
    expect(checkpoint).toMatchObject(journal.end);
  });

  it('replays after a restart what was journaled but not confirmed, and nothing that was', async () => {
    const dir = path.join(tmp, 'restart');
    const first = await openJournal({}, dir);
    for (let i = 0; i < 5; i++) await first.append([measure(i)]);
    // The broker was never reached before this "process" ended.
    await first.close();

    const second = await openJournal({}, dir);
    startForwarder(second, vhost.url);
    const received = await receiveUntil((all) => valuesOf(all).length >= 5, 'the replayed records');
    expect(valuesOf(received)).toEqual([0, 1, 2, 3, 4]);
    await waitFor(() => second.stats.unconfirmedBytes === 0, 'all confirmed');
    await cleanups.pop()?.();
    await cleanups.pop()?.();

    const third = await openJournal({}, dir);
    await third.append([measure(5)]);
    startForwarder(third, vhost.url);
    expect(valuesOf(await receiveUntil((all) => valuesOf(all).length >= 1, 'the new record'))).toEqual([5]);
    expect(await takeAll(vhost.url)).toEqual([]);
  });

  it('sends a confirmed but not yet checkpointed record again after a crash, with the same message id', async () => {
    const dir = path.join(tmp, 'crash');
    // The checkpoint is never saved while running: a crash replays everything.
    const journal = await openJournal({ checkpointDelayMs: 3_600_000 }, dir);
    await journal.append([measure(1)]);
    await journal.append([measure(2)]);
    startForwarder(journal, vhost.url);
    const before = await receiveUntil((all) => valuesOf(all).length >= 2, 'the first delivery');
    await waitFor(() => journal.stats.unconfirmedBytes === 0, 'all confirmed');

    const crashed = path.join(tmp, 'crash-copy');
    fs.cpSync(dir, crashed, { recursive: true });
    fs.writeFileSync(path.join(crashed, 'journal.lock'), '999999999\n');
    const again = await openJournal({}, crashed);
    startForwarder(again, vhost.url);
    const after = await receiveUntil((all) => valuesOf(all).length >= 2, 'the replay');
    expect(valuesOf(after)).toEqual([1, 2]);
    expect(after.map((r): unknown => r.properties.messageId)).toEqual(before.map((r): unknown => r.properties.messageId));
  });

  it('loses nothing when the connection is cut while records flow, and reconnects by itself', async () => {
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(vhost.url).port)).start();
    cleanups.push(() => proxy.stop());
    const journal = await openJournal();
    let connects = 0;
    const forwarder = startForwarder(journal, vhost.urlVia(proxy.hostPort), { connected: () => connects++ });
    let next = 0;
    const appendSome = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++, next++) await journal.append([measure(next)]);
    };
    await appendSome(100);
    await waitFor(() => forwarder.connected, 'the first connection');
    proxy.cut();
    await appendSome(300);
    await waitFor(() => !forwarder.connected, 'the forwarder to notice');
    await appendSome(100);
    proxy.restore();
    await appendSome(100);

    const received = await receiveUntil((all) => new Set(valuesOf(all)).size >= 600, 'every record');
    // At least once: a message in flight at the cut may have arrived and be sent again.
    expect([...new Set(valuesOf(received))].sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(connects).toBeGreaterThanOrEqual(2);
    await waitFor(() => journal.stats.unconfirmedBytes === 0, 'all confirmed');
  });

  it('treats a message returned as unroutable as not sent, and delivers it once the queue is bound again', async () => {
    const conn = await amqp.connect(vhost.url);
    cleanups.push(() => conn.close());
    const ch = await conn.createChannel();
    await ch.unbindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
    cleanups.push(() => ch.bindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey).then(() => undefined));
    const journal = await openJournal();
    await journal.append([measure(42)]);
    let returned = 0;
    // Without declaring the topology, or the forwarder would bind the queue again itself.
    startForwarder(journal, vhost.url, { returned: () => returned++ }, false);
    await waitFor(() => returned >= 2, 'the message to be returned and retried');
    expect(journal.stats.unconfirmedBytes).toBeGreaterThan(0);
    await ch.bindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
    expect(valuesOf(await receiveUntil((all) => valuesOf(all).length >= 1, 'the delivery'))).toEqual([42]);
    await waitFor(() => journal.stats.unconfirmedBytes === 0, 'the checkpoint to move');
  });
});
