import { inspect } from 'node:util';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { assertTopology, TOPOLOGY } from './amqp-topology';
import { retryForever } from './backoff';
import type { Logger } from './logger';
import { isDatabaseError, redactServerMessage } from './logger';

/** What a consumer hands to the code that processes messages; no amqplib types leak out. */
export interface Delivery {
  readonly body: Buffer;
  readonly messageId: string | undefined;
  /** Acknowledges this delivery and every earlier one on the same channel. */
  ackUpTo(): void;
  /** True once the channel it came on is gone (the broker will redeliver it). */
  readonly stale: () => boolean;
}

export interface ConsumerHandlers {
  onDelivery(d: Delivery): void;
  /** The channel is gone: every delivery not yet acked will come again; drop them. */
  onChannelLost(): void;
}

export interface ConsumerOptions {
  readonly url: string;
  readonly queue?: string;
  readonly prefetch: number;
  readonly connectionName: string;
}

/**
 * Consumes one queue and keeps consuming across broker restarts and network cuts: on any loss of
 * connection or channel it reports the loss, waits with capped backoff and starts again.
 */
export class AmqpConsumer {
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;
  private accepting = true;
  private generation = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private lost: (() => void) | undefined;

  constructor(
    private readonly opts: ConsumerOptions,
    private readonly handlers: ConsumerHandlers,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return this.channel !== undefined;
  }

  /** Resolves once the first connection is consuming; reconnects in the background after that. */
  start(): Promise<void> {
    let firstUp: () => void = () => undefined;
    const up = new Promise<void>((resolve) => (firstUp = resolve));
    this.running = this.loop(firstUp);
    return Promise.race([up, this.running]);
  }

  private async loop(firstUp: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        const { closed } = await retryForever(() => this.connectOnce(), {
          startingDelayMs: 200,
          maxDelayMs: 5_000,
          shouldRetry: (err) => {
            this.logger.warn('amqp connect failed, retrying', { err: describe(err) });
            return !this.stopped;
          },
        });
        firstUp();
        await closed;
      } catch (err) {
        if (!this.stopped) this.logger.error('amqp consumer loop error', { err: describe(err) });
      }
    }
  }

  /** Connects, declares the topology, starts consuming; resolves to a promise of the loss. */
  private async connectOnce(): Promise<{ closed: Promise<void> }> {
    if (this.stopped) throw new Error('stopped');
    const connection = await amqp.connect(this.opts.url, {
      clientProperties: { connection_name: this.opts.connectionName },
    });
    const generation = ++this.generation;
    const closed = new Promise<void>((resolve) => {
      let done = false;
      const onLost = (why: string, err?: unknown): void => {
        if (done) return;
        done = true;
        if (this.generation === generation) {
          this.channel = undefined;
          this.connection = undefined;
          this.handlers.onChannelLost();
        }
        if (!this.stopped) this.logger.warn('amqp connection lost', { reason: why, err: describe(err) });
        connection.close().catch(() => undefined);
        resolve();
      };
      this.lost = () => onLost('stopped');
      connection.on('close', (err: unknown) => onLost('connection closed', err));
      connection.on('error', (err: unknown) => onLost('connection error', err));
    });
    try {
      const channel = await connection.createChannel();
      channel.on('close', () => void connection.close().catch(() => undefined));
      channel.on('error', (err: unknown) => this.logger.warn('amqp channel error', { err: describe(err) }));
      await assertTopology(channel);
      await channel.prefetch(this.opts.prefetch);
      this.connection = connection;
      this.channel = channel;
      const isStale = (): boolean => this.generation !== generation || this.channel !== channel;
      await channel.consume(this.opts.queue ?? TOPOLOGY.queue, (msg) => {
        if (msg && this.accepting) this.handlers.onDelivery(toDelivery(channel, msg, isStale));
      });
      this.logger.info('amqp consuming', { queue: this.opts.queue ?? TOPOLOGY.queue, prefetch: this.opts.prefetch });
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
    return { closed };
  }

  /**
   * Stops handing out deliveries; those already handed out stay valid for acking. This does not
   * send basic.cancel: a quorum queue may still deliver after cancel-ok, and amqplib closes the
   * channel on a delivery for an unknown consumer, which would void the acks of the drain that
   * follows. Deliveries ignored from here on are never acked, so the broker requeues them when the
   * connection closes; their tags are higher than any the drain acks, so a multiple-ack never
   * covers them.
   */
  cancel(): void {
    this.stopped = true;
    this.accepting = false;
  }

  async close(): Promise<void> {
    this.stopped = true;
    const { connection, channel } = this;
    // Close the channel first and await its close-ok: it travels on the same stream as the acks
    // written just before, so the broker has applied them when it answers. amqplib may send a
    // connection close ahead of channel frames still queued, which would void those acks.
    if (channel) await channel.close().catch(() => undefined);
    if (connection) await connection.close().catch(() => undefined);
    this.lost?.();
    await this.running?.catch(() => undefined);
  }
}

/** A class rather than an object literal with closures: one small allocation per message. */
class AmqpDelivery implements Delivery {
  readonly body: Buffer;
  readonly messageId: string | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly msg: ConsumeMessage,
    readonly stale: () => boolean,
  ) {
    this.body = msg.content;
    this.messageId = msg.properties.messageId as string | undefined;
  }

  ackUpTo(): void {
    if (!this.stale()) this.channel.ack(this.msg, true);
  }
}

function toDelivery(channel: Channel, msg: ConsumeMessage, stale: () => boolean): Delivery {
  return new AmqpDelivery(channel, msg, stale);
}

export function describe(err: unknown): string | undefined {
  if (err === undefined) return undefined;
  if (err instanceof Error) return `${err.name}: ${isDatabaseError(err) ? redactServerMessage(err.message) : err.message}`;
  return inspect(err);
}
