import winston from 'winston';
import type { Delivery } from '../shared/amqp-consumer';
import { createMetrics } from '../shared/metrics';
import { IngestMetrics } from './ingest-metrics';
import { MeasureBatcher } from './measure-batcher';
import type { BatchOutcome, BatchSink, PendingMessage } from './measure-writer';

const silent = winston.createLogger({ silent: true });

class FakeSink implements BatchSink {
  batches: PendingMessage[][] = [];
  concurrent = 0;
  maxConcurrent = 0;
  failNext = 0;
  gate: Promise<void> | undefined;

  async write(messages: readonly PendingMessage[]): Promise<BatchOutcome> {
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      await this.gate;
      await new Promise((r) => setImmediate(r));
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('database down');
      }
      this.batches.push([...messages]);
      return { stored: messages.reduce((n, m) => n + m.decoded.measures.length, 0), rejected: new Map() };
    } finally {
      this.concurrent--;
    }
  }
}

class FakeChannel {
  acked: number[] = [];
  alive = true;
  private tag = 0;

  delivery(value: number): Delivery {
    const tag = ++this.tag;
    return {
      body: Buffer.from(JSON.stringify({ experiment: 'e', measure: 'm', value, timestamp: value })),
      messageId: undefined,
      ackUpTo: () => {
        if (this.alive) this.acked.push(tag);
      },
      stale: () => !this.alive,
    };
  }
}

function setup(batchSize: number, flushMs = 20) {
  const sink = new FakeSink();
  const batcher = new MeasureBatcher(sink, { batchSize, flushMs }, new IngestMetrics(createMetrics('t')), silent);
  return { sink, batcher, channel: new FakeChannel() };
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('MeasureBatcher', () => {
  it('flushes a full batch at once and acks it with one multiple-ack of its last delivery', async () => {
    const { sink, batcher, channel } = setup(3, 60_000);
    for (let i = 1; i <= 3; i++) batcher.add(channel.delivery(i));
    await until(() => channel.acked.length === 1);
    expect(sink.batches.map((b) => b.length)).toEqual([3]);
    expect(channel.acked).toEqual([3]);
  });

  it('flushes a partial batch after flushMs', async () => {
    const { sink, batcher, channel } = setup(100, 10);
    batcher.add(channel.delivery(1));
    await until(() => channel.acked.length === 1);
    expect(sink.batches).toHaveLength(1);
  });

  it('never runs two writes at once and keeps arrival order', async () => {
    const { sink, batcher, channel } = setup(2, 1);
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    for (let i = 1; i <= 9; i++) batcher.add(channel.delivery(i));
    open();
    expect(await batcher.drain(5_000)).toBe(true);
    expect(sink.maxConcurrent).toBe(1);
    const values = sink.batches.flat().map((m) => m.decoded.measures[0].value);
    expect(values).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(channel.acked[channel.acked.length - 1]).toBe(9);
    expect([...channel.acked].sort((a, b) => a - b)).toEqual(channel.acked);
  });

  it('cuts what arrives during a long write into batches of the batch size, each acked on its own', async () => {
    const { sink, batcher, channel } = setup(3, 60_000);
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    for (let i = 1; i <= 12; i++) batcher.add(channel.delivery(i));
    open();
    expect(await batcher.drain(5_000)).toBe(true);
    expect(sink.batches.map((b) => b.length)).toEqual([3, 3, 3, 3]);
    expect(channel.acked).toEqual([3, 6, 9, 12]);
  });

  it('retries a failed write and acks only after it succeeded', async () => {
    const { sink, batcher, channel } = setup(1);
    sink.failNext = 2;
    batcher.add(channel.delivery(1));
    await until(() => batcher.writeFailure !== undefined);
    expect(channel.acked).toEqual([]);
    await until(() => channel.acked.length === 1);
    expect(sink.batches).toHaveLength(1);
    expect(batcher.writeFailure).toBeUndefined();
  });

  it('drops a batch whose channel is gone instead of acking it', async () => {
    const { sink, batcher, channel } = setup(1);
    sink.failNext = 1_000;
    batcher.add(channel.delivery(1));
    await until(() => batcher.writeFailure !== undefined);
    channel.alive = false;
    batcher.discard();
    expect(await batcher.drain(5_000)).toBe(true);
    expect(channel.acked).toEqual([]);
    expect(sink.batches).toEqual([]);
  });

  it('gives up draining after the timeout, leaving messages unacked for redelivery', async () => {
    const { sink, batcher, channel } = setup(1);
    sink.failNext = 1_000;
    batcher.add(channel.delivery(1));
    expect(await batcher.drain(300)).toBe(false);
    expect(channel.acked).toEqual([]);
  });
});
