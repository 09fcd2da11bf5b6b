import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { assertTopology, TOPOLOGY } from '../../services/shared/amqp-topology';
import { MAX_MEASURES_PER_MESSAGE, toWire } from '../../services/shared/measure-contract';
import type { Measure } from '../../services/shared/measure-contract';

/**
 * Publishes measure messages (DESIGN §3.1) on a confirm channel. A publish settles only when the
 * broker has answered for every message it sent: confirmed and routed resolves; nacked, returned
 * as unroutable, or lost with the connection rejects. It does not reconnect: a dead connection
 * makes every later publish reject with a PublisherClosedError.
 */

export interface PublisherOptions {
  readonly url: string;
  readonly connectionName?: string;
  /** Measures per message; the contract allows at most MAX_MEASURES_PER_MESSAGE. */
  readonly maxMeasuresPerMessage?: number;
  /** Declare the topology on connect (needs the configure permission on the vhost). */
  readonly declareTopology?: boolean;
  /** Passed to tls.connect for amqps:// URLs, e.g. the CA of a private broker certificate. */
  readonly socketOptions?: { readonly ca?: Buffer[] };
}

export interface PublishOptions {
  /**
   * The message id, e.g. a journal's, so a consumer can tell a replay from new data. Only for
   * measures that fit one message.
   */
  readonly messageId?: string;
}

/** The broker gave the message back: no queue is bound for the routing key. */
export class UnroutableError extends Error {
  constructor(
    readonly messageId: string,
    why: string,
  ) {
    super(`message ${messageId} was returned by the broker (${why}): exchange "${TOPOLOGY.exchange}" has no queue bound for routing key "${TOPOLOGY.routingKey}"`);
    this.name = 'UnroutableError';
  }
}

/** The broker refused the message (basic.nack), e.g. a queue over its length limit. */
export class NackedError extends Error {
  constructor(readonly messageId: string) {
    super(`message ${messageId} was refused by the broker (nack)`);
    this.name = 'NackedError';
  }
}

/** The connection or channel is gone or closing; nothing more can be published on it. */
export class PublisherClosedError extends Error {
  constructor(why: string) {
    super(`AMQP publisher is closed: ${why}`);
    this.name = 'PublisherClosedError';
  }
}

interface Outstanding {
  settle(err: Error | undefined): void;
  /** Resolves (never rejects) once settled. */
  readonly done: Promise<void>;
}

/** The RabbitMQ user the URL logs in as; the broker checks user_id against it. */
export function amqpUser(url: string): string {
  return decodeURIComponent(new URL(url).username) || 'guest';
}

export class MeasurePublisher {
  private readonly outstanding = new Map<string, Outstanding>();
  /** Messages basic.return'ed, by id; their basic.ack follows and turns into a rejection. */
  private readonly returned = new Map<string, string>();
  private drained: Promise<void> | undefined;
  private closedBy: PublisherClosedError | undefined;
  private closing: Promise<void> | undefined;
  private readonly closedWaiters = new Set<() => void>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
    private readonly userId: string,
    readonly maxMeasuresPerMessage: number,
  ) {
    channel.on('return', (msg: Message) => {
      const id: unknown = msg.properties.messageId;
      // amqplib's types omit the basic.return fields.
      const fields = msg.fields as Message['fields'] & { replyCode?: number; replyText?: string };
      if (typeof id === 'string' && this.outstanding.has(id)) {
        this.returned.set(id, `${fields.replyCode ?? '?'} ${fields.replyText ?? 'returned'}`);
      }
    });
    connection.on('error', (err: Error) => this.lost(`connection error: ${err.message}`));
    connection.on('close', (err?: Error) => this.lost(err ? `connection closed: ${err.message}` : 'connection closed'));
    channel.on('error', (err: Error) => this.lost(`channel error: ${err.message}`));
    channel.on('close', () => this.lost('channel closed'));
  }

  static async connect(opts: PublisherOptions): Promise<MeasurePublisher> {
    const max = opts.maxMeasuresPerMessage ?? MAX_MEASURES_PER_MESSAGE;
    if (!Number.isInteger(max) || max < 1 || max > MAX_MEASURES_PER_MESSAGE) {
      throw new RangeError(`maxMeasuresPerMessage must be an integer from 1 to ${MAX_MEASURES_PER_MESSAGE}`);
    }
    const connection = await amqp.connect(opts.url, {
      ...opts.socketOptions,
      clientProperties: { connection_name: opts.connectionName ?? 'mymonit-adapter' },
    });
    // An 'error' event without a listener would crash the process before the constructor listens.
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createConfirmChannel();
      if (opts.declareTopology ?? true) await assertTopology(channel);
      return new MeasurePublisher(connection, channel, amqpUser(opts.url), max);
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  /** Whether publish can still succeed (the connection is up and close() was not called). */
  get open(): boolean {
    return !this.closedBy && !this.closing;
  }

  /**
   * Sends the measures in as few messages as the per-message limit allows; resolves once the
   * broker has confirmed and routed all of them, rejects if any message failed.
   */
  async publish(measures: readonly Measure[], opts: PublishOptions = {}): Promise<void> {
    if (opts.messageId !== undefined && measures.length > this.maxMeasuresPerMessage) {
      throw new RangeError(`a caller-given messageId needs at most ${this.maxMeasuresPerMessage} measures`);
    }
    const confirms: Promise<void>[] = [];
    let sendError: Error | undefined;
    for (let i = 0; i < measures.length && sendError === undefined; i += this.maxMeasuresPerMessage) {
      const chunk = measures.slice(i, i + this.maxMeasuresPerMessage);
      try {
        confirms.push((await this.send(chunk, opts.messageId ?? randomUUID())).confirmed);
      } catch (err) {
        sendError = err instanceof Error ? err : new Error(String(err));
      }
    }
    // Wait for every message sent, not just the first failure, so nothing is outstanding on return.
    const failed = (await Promise.allSettled(confirms)).find((r) => r.status === 'rejected');
    if (sendError !== undefined) throw sendError;
    // Every confirm promise rejects with an Error (see settle).
    if (failed) throw failed.reason as Error;
  }

  /** Writes one message once the channel has room; returns the promise of its confirm. */
  private async send(measures: readonly Measure[], messageId: string): Promise<{ confirmed: Promise<void> }> {
    while (this.drained) {
      this.assertOpen();
      await this.drained;
    }
    this.assertOpen();
    if (this.outstanding.has(messageId)) {
      throw new Error(`message ${messageId} is already being published`);
    }
    const body = Buffer.from(JSON.stringify(measures.length === 1 ? toWire(measures[0]) : measures.map(toWire)));
    let settle: (err: Error | undefined) => void = () => undefined;
    const confirmed = new Promise<void>((resolve, reject) => {
      let settled = false;
      settle = (err) => {
        if (settled) return;
        settled = true;
        this.outstanding.delete(messageId);
        this.returned.delete(messageId);
        if (err) reject(err);
        else resolve();
      };
    });
    this.outstanding.set(messageId, { settle, done: confirmed.catch(() => undefined) });
    let hasRoom: boolean;
    try {
      hasRoom = this.channel.publish(
        TOPOLOGY.exchange,
        TOPOLOGY.routingKey,
        body,
        {
          mandatory: true,
          persistent: true,
          contentType: 'application/json',
          messageId,
          userId: this.userId,
        },
        (err: unknown) => this.confirm(messageId, err),
      );
    } catch (err) {
      // amqplib throws synchronously once the channel is closed.
      const closed = this.closedBy ?? new PublisherClosedError(err instanceof Error ? err.message : String(err));
      settle(closed);
      throw closed;
    }
    if (!hasRoom && !this.drained) {
      this.drained = this.drainOrLoss().then(() => {
        this.drained = undefined;
      });
    }
    return { confirmed };
  }

  private confirm(messageId: string, err: unknown): void {
    const entry = this.outstanding.get(messageId);
    if (!entry) return;
    const returned = this.returned.get(messageId);
    if (err instanceof Error && err.message === 'message nacked') {
      entry.settle(new NackedError(messageId));
    } else if (err) {
      entry.settle(this.closedBy ?? new PublisherClosedError(err instanceof Error ? err.message : 'confirm failed'));
    } else if (returned !== undefined) {
      entry.settle(new UnroutableError(messageId, returned));
    } else {
      entry.settle(undefined);
    }
  }

  private assertOpen(): void {
    if (this.closedBy) throw this.closedBy;
    if (this.closing) throw new PublisherClosedError('close() was called');
  }

  /** Resolves on the channel's next drain event, or as soon as the connection is lost. */
  private drainOrLoss(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.channel.off('drain', done);
        this.closedWaiters.delete(done);
        resolve();
      };
      this.channel.once('drain', done);
      this.closedWaiters.add(done);
    });
  }

  private lost(why: string): void {
    if (this.closedBy) return;
    this.closedBy = new PublisherClosedError(why);
    // amqplib fails the confirm callbacks of a closed channel too; settling here as well makes
    // sure no publish can hang whatever the order of events.
    for (const entry of [...this.outstanding.values()]) entry.settle(this.closedBy);
    for (const wake of [...this.closedWaiters]) wake();
  }

  /** Stops accepting publishes, waits for the confirms still outstanding, closes the connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.outstanding.values()].map((entry) => entry.done));
      this.closedBy ??= new PublisherClosedError('close() was called');
      await this.connection.close().catch(() => undefined);
    })();
    return this.closing;
  }
}
